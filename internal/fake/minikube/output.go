package minikube

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
)

// out writes minikube-style output: low-fi prefixes ("* ", "! ", "X ") when
// not on a terminal, CloudEvents with -o json.
type out struct {
	s    *invocation
	json bool
	step int
}

func (o *out) cloudEvent(typ string, data map[string]string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	ev := map[string]any{
		"data": data, "datacontenttype": "application/json", "id": id,
		"source": "https://minikube.sigs.k8s.io/", "specversion": "1.0", "type": typ,
	}
	line, _ := json.Marshal(ev)
	fmt.Fprintln(o.s.env.Stdout, string(line))
}

// Step prints a progress step ("* ..." on stdout).
func (o *out) Step(name, msg string) {
	if o.json {
		o.step++
		o.cloudEvent("io.k8s.sigs.minikube.step", map[string]string{
			"currentstep": strconv.Itoa(o.step), "message": msg, "name": name, "totalsteps": "19",
		})
		return
	}
	fmt.Fprintln(o.s.env.Stdout, "* "+msg)
}

// Info prints an info line.
func (o *out) Info(msg string) {
	if o.json {
		o.cloudEvent("io.k8s.sigs.minikube.info", map[string]string{"message": msg})
		return
	}
	fmt.Fprintln(o.s.env.Stdout, "* "+msg)
}

// Warning prints "! msg" on stderr.
func (o *out) Warning(msg string) {
	if o.json {
		o.cloudEvent("io.k8s.sigs.minikube.warning", map[string]string{"message": msg})
		return
	}
	fmt.Fprintln(o.s.env.Stderr, "! "+msg)
}

// Err is minikube's out.ErrT: a line on stderr with the style's prefix,
// an unnamed error event with -o json.
func (o *out) Err(prefix, msg string) {
	if o.json {
		o.cloudEvent("io.k8s.sigs.minikube.error", map[string]string{"message": msg})
		return
	}
	fmt.Fprintln(o.s.env.Stderr, prefix+" "+msg)
}

// Fatal prints minikube's "Exiting due to" block and returns the code.
func (o *out) Fatal(code int, reason, msg, advice string) int {
	if o.json {
		o.cloudEvent("io.k8s.sigs.minikube.error", map[string]string{
			"advice": advice, "exitcode": strconv.Itoa(code), "issues": "", "message": msg, "name": reason, "url": "",
		})
		return code
	}
	if reason == "" {
		// An error event without a reason (a retry, the issue link).
		fmt.Fprintf(o.s.env.Stderr, "X %s\n", msg)
		return code
	}
	fmt.Fprintln(o.s.env.Stdout)
	fmt.Fprintf(o.s.env.Stderr, "X Exiting due to %s: %s\n", reason, msg)
	if advice != "" {
		fmt.Fprintf(o.s.env.Stderr, "* Suggestion: %s\n", advice)
	}
	fmt.Fprintln(o.s.env.Stdout)
	return code
}

// issueLink is the box exit.Error prints after its named error (as an
// unnamed error event with -o json).
const issueLink = "If the above advice does not help, please let us know: https://github.com/kubernetes/minikube/issues/new/choose"

// FatalError is minikube's exit.Error: Fatal, then the issue link.
func (o *out) FatalError(code int, reason, msg, advice string) int {
	o.Fatal(code, reason, msg, advice)
	o.Fatal(code, "", issueLink, "")
	return code
}

// profileNotFound prints the two stdout lines of mustload.Partial and
// returns 85.
func (o *out) profileNotFound(name string) int {
	hint := `"minikube start"`
	if name != "minikube" {
		hint = fmt.Sprintf(`"minikube start -p %s"`, name)
	}
	l1 := fmt.Sprintf(`Profile %q not found. Run "minikube profile list" to view all profiles.`, name)
	l2 := "To start a cluster, run: " + hint
	if o.json {
		o.cloudEvent("io.k8s.sigs.minikube.info", map[string]string{"message": l1})
		o.cloudEvent("io.k8s.sigs.minikube.info", map[string]string{"message": l2})
		return exGuestNotFound
	}
	fmt.Fprintln(o.s.env.Stdout, "* "+l1)
	fmt.Fprintln(o.s.env.Stdout, "  "+l2)
	return exGuestNotFound
}
