package childproc

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// LookupCredential resolves a user and a group name to the credentials a
// child runs with (see Spec.User and Spec.Group); nil when both are "".
// Callers may use it to check a configuration before anything runs.
func LookupCredential(userName, groupName string) (*syscall.Credential, error) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Groups: []uint32{}}
	if userName != "" {
		u, err := user.Lookup(userName)
		if err != nil {
			return nil, fmt.Errorf("run as user %q: %w", userName, err)
		}
		uid, err := parseID(u.Uid)
		if err != nil {
			return nil, fmt.Errorf("run as user %q: uid %q: %w", userName, u.Uid, err)
		}
		gid, err := parseID(u.Gid)
		if err != nil {
			return nil, fmt.Errorf("run as user %q: gid %q: %w", userName, u.Gid, err)
		}
		ids, err := u.GroupIds()
		if err != nil {
			return nil, fmt.Errorf("run as user %q: its groups: %w", userName, err)
		}
		for _, s := range ids {
			id, err := parseID(s)
			if err != nil {
				return nil, fmt.Errorf("run as user %q: group id %q: %w", userName, s, err)
			}
			cred.Groups = append(cred.Groups, id)
		}
		cred.Uid, cred.Gid = uid, gid
	}
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if err != nil {
			return nil, fmt.Errorf("run as group %q: %w", groupName, err)
		}
		gid, err := parseID(g.Gid)
		if err != nil {
			return nil, fmt.Errorf("run as group %q: gid %q: %w", groupName, g.Gid, err)
		}
		cred.Gid = gid
	}
	return cred, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}
