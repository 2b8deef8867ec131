package script

import "strconv"

// ocfCodeName names an OCF exit code (OCF resource agent API, and
// ocf-returncodes of resource-agents).
func ocfCodeName(code int) string {
	switch code {
	case 0:
		return "OCF_SUCCESS"
	case 1:
		return "OCF_ERR_GENERIC: generic error"
	case 2:
		return "OCF_ERR_ARGS: invalid arguments"
	case 3:
		return "OCF_ERR_UNIMPLEMENTED: unimplemented action"
	case 4:
		return "OCF_ERR_PERM: insufficient permissions"
	case 5:
		return "OCF_ERR_INSTALLED: not installed"
	case 6:
		return "OCF_ERR_CONFIGURED: not configured"
	case 7:
		return "OCF_NOT_RUNNING: not running"
	case 8:
		return "OCF_RUNNING_MASTER: running as master"
	case 9:
		return "OCF_FAILED_MASTER: failed as master"
	}
	return shellCodeName(code)
}

// lsbActionName names an LSB init script exit code of start or stop.
func lsbActionName(code int) string {
	switch code {
	case 1:
		return "generic or unspecified error"
	case 2:
		return "invalid or excess arguments"
	case 3:
		return "unimplemented feature"
	case 4:
		return "insufficient privilege"
	case 5:
		return "program is not installed"
	case 6:
		return "program is not configured"
	case 7:
		return "program is not running"
	}
	return shellCodeName(code)
}

// lsbStatusName names an LSB init script exit code of status.
func lsbStatusName(code int) string {
	switch code {
	case 0:
		return "program is running"
	case 1:
		return "program is dead and a pid file exists"
	case 2:
		return "program is dead and a lock file exists"
	case 3:
		return "program is not running"
	case 4:
		return "program or service status is unknown"
	}
	return shellCodeName(code)
}

// shellCodeName names the codes shells give meaning to; "" for others.
func shellCodeName(code int) string {
	switch {
	case code == 126:
		return "a command was not executable"
	case code == 127:
		return "a command was not found"
	case code > 128 && code < 160:
		return "a command was killed by signal " + strconv.Itoa(code-128)
	}
	return ""
}
