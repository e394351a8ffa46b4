package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// errHelp ends a command that printed its help because it was asked to:
// run returns nil for it, so the process exits 0.
var errHelp = errors.New("help")

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// parseFlags parses args with fs. Asked for help (-h, --help), it prints the
// synopsis and every setting on stdout and returns errHelp; a flag that is
// wrong is named on stderr with the same help, and gives errUsage.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, on the stream it belongs to
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(fs, synopsis, stdout)
		return errHelp
	case err != nil:
		printHelp(fs, synopsis, stderr) // the flag package has named the error on stderr
		return errUsage
	}
	return nil
}

func printHelp(fs *flag.FlagSet, synopsis string, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\nSettings:\n", synopsis)
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}
