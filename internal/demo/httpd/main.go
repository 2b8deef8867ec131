// Command httpd is the demo's service: a tiny HTTP server that answers
// "hello from <node>". It is started and stopped by the demo's resource
// script, like a real service would be.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("listen", ":80", "address to listen on")
	node := flag.String("node", "", "node name to answer with")
	pidFile := flag.String("pidfile", "", "write the pid here")
	flag.Parse()
	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "hello from %s\n", *node)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
