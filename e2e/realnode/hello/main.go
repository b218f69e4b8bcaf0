// Command hello is the real-node tier's "user image": a static HTTP server
// that answers every request with a fixed line and the pod's name.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from the user image on %s\n", os.Getenv("HOSTNAME"))
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
