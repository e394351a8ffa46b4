package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/turnero/turnero/internal/turnero"
)

// tokensSynopsis is the help of "turnero tokens".
const tokensSynopsis = "turnero tokens create " + operatorStorage + " --role admin|center|feed [--center ID]"

// cmdTokens: turnero tokens create --role center --center ID. The secret is
// printed once and stored only as its hash.
func cmdTokens(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "create" {
		return subcommandUsage(args, tokensSynopsis, stdout, stderr)
	}
	var role, center string
	sys, rest, err := operatorSystem(ctx, "tokens create", tokensSynopsis, args[1:], stdout, stderr, log, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "admin, center (staff of one center) or feed (an external scheduling system)")
		fs.StringVar(&center, "center", "", "the center a center token is for")
	})
	if err != nil {
		return err
	}
	defer sys.store.Close()
	c := sys.campaign
	if len(rest) != 0 {
		return fmt.Errorf("tokens create: unexpected arguments %v", rest)
	}
	switch role {
	case turnero.RoleAdmin, turnero.RoleFeed:
		if center != "" {
			return fmt.Errorf("tokens create: setting center: only a center token names a center")
		}
	case turnero.RoleCenter:
		if center == "" {
			return fmt.Errorf("tokens create: setting center: a center token needs --center ID")
		}
		if !campaignHasCenter(c, center) {
			if _, err := sys.store.Center(ctx, center); err != nil {
				return fmt.Errorf("tokens create: setting center: the campaign has no center %q and none is imported", center)
			}
		}
	default:
		return fmt.Errorf("tokens create: setting role: must be admin, center or feed, got %q", role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	if err := sys.store.PutToken(ctx, turnero.Token{Hash: turnero.HashToken(secret), Role: role, Center: center}); err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	fmt.Fprintf(stderr, "%s %s token; it is shown only this once and stored only as a hash:\n", article(role), role)
	fmt.Fprintln(stdout, secret)
	return nil
}

func campaignHasCenter(c *turnero.Campaign, id string) bool {
	for _, ct := range c.Centers {
		if ct.ID == id {
			return true
		}
	}
	return false
}

// article is the indefinite article before word: "an admin token", "a feed token".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
