package migrate

import "github.com/hasuite/hasuite/internal/keepalived"

func mapFS(m map[string]string) keepalived.MapFS { return keepalived.MapFS(m) }
