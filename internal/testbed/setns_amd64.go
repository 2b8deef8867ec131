package testbed

// sysSetns is setns(2) on linux/amd64; the frozen syscall package lacks it
// and the test bed avoids a golang.org/x/sys dependency for one number.
const sysSetns = 308
