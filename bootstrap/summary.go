package bootstrap

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/internal/ui"
)

// The summaries hold text from outside devcluster (names, messages, events,
// log lines): every such text goes through mdCell (table cells and running
// text), ui.MarkdownCode (names) or ui.MarkdownBlock (multi-line text), so
// none of it becomes Markdown or HTML.

// stepTable renders the steps and their durations.
func stepTable(steps []ui.StepRecord) string {
	var b strings.Builder
	b.WriteString("| step | result | time |\n|---|---|---|\n")
	for _, s := range steps {
		mark := "✅"
		if !s.OK {
			mark = "❌"
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s |\n", mark, mdCell(s.Title), mdCell(s.Result), s.Duration.Round(100*time.Millisecond))
	}
	return b.String()
}

// mdCell is s as a table cell or running text: one line, markup escaped.
func mdCell(s string) string { return ui.MarkdownText(s) }

// upSummary is the Markdown summary of `up`.
func upSummary(r *Result, err error, steps []ui.StepRecord) string {
	var b strings.Builder
	name := "devcluster"
	if r != nil && r.Cluster != nil {
		name = r.Cluster.Name
	}
	if err != nil {
		fmt.Fprintf(&b, "### ❌ devcluster up: cluster %s failed\n\n%s\n", ui.MarkdownCode(name), ui.MarkdownBlock(err.Error()))
	} else {
		fmt.Fprintf(&b, "### ✅ devcluster up: cluster %s is ready\n\n", ui.MarkdownCode(name))
	}
	if r != nil && r.Cluster != nil {
		c := r.Cluster
		fmt.Fprintf(&b, "- **Cluster:** %s, Kubernetes %s, node IP %s, state %s\n", mdCell(c.Provider+" "+c.ProviderVersion),
			mdCell(text.OrDash(c.KubernetesVersion)), mdCell(text.OrDash(c.IP)), mdCell(string(c.State)))
	}
	if r != nil && r.Kubernetes != nil {
		fmt.Fprintf(&b, "- **Context:** %s (%s)\n", ui.MarkdownCode(r.Kubernetes.Context), mdCell(r.Kubernetes.Server))
	}
	if r != nil && r.Registry != nil {
		fmt.Fprintf(&b, "- **Registry:** push to %s, the cluster pulls from %s\n", ui.MarkdownCode(r.Registry.Host), ui.MarkdownCode(r.Registry.ClusterHost))
	}
	if r != nil && len(r.Workloads) > 0 {
		b.WriteString("\n| workload | state |\n|---|---|\n")
		for _, w := range r.Workloads {
			state := "✅ " + w.Message
			if !w.Ready {
				state = "❌ " + w.Message
			}
			fmt.Fprintf(&b, "| %s | %s |\n", mdCell(w.Kind+" "+w.Namespace+"/"+w.Name), mdCell(state))
		}
	}
	if r != nil && len(r.LoadBalancers) > 0 {
		b.WriteString("\n| LoadBalancer Service | URLs |\n|---|---|\n")
		for _, l := range r.LoadBalancers {
			fmt.Fprintf(&b, "| %s | %s |\n", mdCell(l.Namespace+"/"+l.Name), mdCell(strings.Join(l.URLs, " ")+" "+l.State))
		}
	}
	b.WriteString("\n" + stepTable(steps))
	return b.String()
}

// deploySummary is the Markdown summary of `deploy`.
func deploySummary(r *DeployResult, err error, steps []ui.StepRecord) string {
	var b strings.Builder
	if err != nil {
		b.WriteString("### ❌ devcluster deploy failed\n\n")
	} else if r != nil && !r.Changed {
		b.WriteString("### ✅ devcluster deploy: unchanged\n\n")
	} else {
		b.WriteString("### ✅ devcluster deploy: rolled out\n\n")
	}
	if r != nil {
		fmt.Fprintf(&b, "- **Context:** %s, namespace %s\n", ui.MarkdownCode(text.OrDash(r.Context)), ui.MarkdownCode(r.Namespace))
		for _, cm := range r.ConfigMaps {
			fmt.Fprintf(&b, "- **ConfigMap** %s: %s (%s)\n", ui.MarkdownCode(cm.Name), mdCell(cm.Action), mdCell(strings.Join(cm.Keys, ", ")))
		}
		if len(r.Workloads) > 0 {
			b.WriteString("\n| workload | revision | images | state |\n|---|---|---|---|\n")
			for _, w := range r.Workloads {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(strings.ToLower(w.Kind)+"/"+w.Name), mdCell(text.OrDash(w.Revision)),
					mdCell(strings.Join(w.Images, " ")), mdCell(w.Message))
			}
		}
		if f := r.Failure; f != nil {
			fmt.Fprintf(&b, "\n**%s** — pod %s, container %s: **%s** %s\n", mdCell(f.Workload), ui.MarkdownCode(f.Pod), ui.MarkdownCode(f.Container),
				mdCell(f.Reason), mdCell(f.Message))
			if len(f.Events) > 0 || len(f.Logs) > 0 {
				// The blank line ends the HTML block, so the code block is
				// Markdown; nothing inside it can close it or the details.
				b.WriteString("\n<details><summary>events and last log lines</summary>\n\n")
				b.WriteString(ui.MarkdownBlock(strings.Join(append(slices.Clone(f.Events), f.Logs...), "\n")))
				b.WriteString("</details>\n")
			}
			if r.RolledBack {
				b.WriteString("\nRolled back: the previous templates and ConfigMap data are restored.\n")
			}
		}
	}
	if err != nil && (r == nil || r.Failure == nil) {
		b.WriteString("\n" + ui.MarkdownBlock(err.Error()))
	}
	b.WriteString("\n" + stepTable(steps))
	return b.String()
}
