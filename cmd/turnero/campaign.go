package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/turnero/turnero/internal/campaign"
	"github.com/turnero/turnero/internal/turnero"
)

// campaignSynopsis is the help of "turnero campaign".
const campaignSynopsis = "turnero campaign show " + operatorStorage + "\n" +
	"       turnero campaign apply " + operatorStorage + " FILE [--yes]\n\n" +
	"show prints the campaign file the database runs. apply compares FILE with it and, with --yes, makes\n" +
	"it the campaign of every node (restart them one by one to take it). A campaign's rules may only grow\n" +
	"(groups appended, vaccines and channels added); centers, allocation and notifications may change."

// cmdCampaign: turnero campaign show|apply.
func cmdCampaign(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "apply") {
		return subcommandUsage(args, campaignSynopsis, stdout, stderr)
	}
	var yes bool
	sys, rest, err := operatorSystem(ctx, "campaign "+args[0], campaignSynopsis, args[1:], stdout, stderr, log, func(fs *flag.FlagSet) {
		if args[0] == "apply" {
			fs.BoolVar(&yes, "yes", false, "apply the changes shown (without it, only show them)")
		}
	})
	if err != nil {
		return err
	}
	defer sys.store.Close()
	if args[0] == "show" {
		if len(rest) != 0 {
			return fmt.Errorf("campaign show: unexpected arguments %v", rest)
		}
		_, err := stdout.Write(sys.deployment.CampaignSource)
		return err
	}
	// "apply FILE --yes", as people type it: the flag package stops at FILE.
	var files []string
	for _, a := range rest {
		if a == "--yes" || a == "-yes" {
			yes = true
			continue
		}
		files = append(files, a)
	}
	rest = files
	if len(rest) != 1 {
		return fmt.Errorf("campaign apply: give one campaign file")
	}
	next, source, err := campaignFile(rest[0])
	if err != nil {
		return err
	}
	refused, changes := campaign.Compare(sys.campaign, next)
	if len(refused) > 0 {
		return fmt.Errorf("campaign apply: %s changes what the data of campaign %q depends on; nothing applied "+
			"(a campaign with other rules needs a database of its own):\n  %s", rest[0], sys.campaign.ID, strings.Join(refused, "\n  "))
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s is the campaign the database runs: nothing to apply\n", rest[0])
		return nil
	}
	fmt.Fprintf(stdout, "Changes to campaign %s:\n  %s\n", next.ID, strings.Join(changes, "\n  "))
	if !yes {
		fmt.Fprintln(stdout, "\nNothing applied yet: run again with --yes to apply them.")
		return nil
	}
	pin := turnero.CampaignPin{ID: next.ID, RulesHash: campaign.RulesHash(next), Source: source, At: time.Now()}
	if err := sys.store.ApplyCampaign(ctx, sys.deployment.RulesHash, pin, next.Centers); err != nil {
		return fmt.Errorf("campaign apply: %w", err)
	}
	fmt.Fprintln(stdout, "\nApplied. Restart the nodes one by one: each runs the new version when it starts.")
	return nil
}
