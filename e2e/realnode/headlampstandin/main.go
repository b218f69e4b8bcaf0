// Command headlampstandin stands in for Headlamp in the real-node tier's
// dashboard test (dashboard.image): it listens where Headlamp does (4466),
// accepts Headlamp's arguments, and answers every request with the
// Authorization header it carried, so the test can see that the token
// devcluster minted reaches the dashboard through the printed URL.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "headlamp stand-in (args %q)\nauthorization: %s\n", os.Args[1:], r.Header.Get("Authorization"))
	})
	if err := http.ListenAndServe(":4466", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
