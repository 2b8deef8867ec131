// Package migrate moves configurations into and out of hasuite: `hactl
// import keepalived` (ImportKeepalived: keepalived.conf files to ha.cf,
// haresources.toml and authkeys) and `hactl export pacemaker`
// (ExportPacemaker: the haresources groups as a Pacemaker CIB and pcs
// commands). Migrator implements the hactl side (cli.Migrator). See
// docs/migration.md for the mapping tables.
package migrate
