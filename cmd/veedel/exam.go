package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
)

const examUsage = `Usage: veedel exam escrow-keygen -out FILE

Makes the health office's escrow key for the school-entry exams: the
private key goes to FILE (mode 0600; keep it offline, it opens every
exam recorded at the school-health sites from central's copy of their
change-log), the public key to FILE.pub, which each school-health
appliance takes with -exam-escrow-pub FILE.pub.
`

func runExam(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("exam: escrow-keygen (see veedel exam -help)")
	}
	switch args[0] {
	case "escrow-keygen":
		fs := flag.NewFlagSet("exam escrow-keygen", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprint(stderr, examUsage+"\n")
			fs.PrintDefaults()
		}
		out := fs.String("out", "", "file for the new private key (the public key goes beside it as FILE.pub)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *out == "" {
			return usageErrorf("exam escrow-keygen: -out is required, e.g. -out gesundheitsamt-escrow.key")
		}
		if _, err := exam.WriteEscrowKey(*out); err != nil {
			return usageErrorf("exam escrow-keygen: %s", veedel.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "escrow private key: %s (keep it offline)\nescrow public key:  %s.pub (for -exam-escrow-pub)\n", *out, *out)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, examUsage)
		return nil
	}
	return usageErrorf("exam: unknown subcommand %q (want escrow-keygen)", args[0])
}
