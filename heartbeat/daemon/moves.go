package daemon

import (
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/heartbeat/node"
)

// move starts a standby or takeover (hb_standby, hb_takeover) in the node
// layer, which answers once the groups have moved; the reply waits for it.
func (d *Daemon) move(r ctrlReq) (control.Response, bool) {
	word := "all"
	if len(r.req.Args) > 0 {
		word = r.req.Args[0]
	}
	kind := node.Standby
	if r.req.Cmd == api.CmdTakeover {
		kind = node.Takeover
	}
	d.moveID++
	if err := d.node.Move(d.now(), d.moveID, kind, word); err != nil {
		return fail("%v", err), false
	}
	if d.moves == nil {
		d.moves = map[uint64]chan control.Response{}
	}
	d.moves[d.moveID] = r.reply
	d.flush()
	return control.Response{}, true
}

// answerMove replies to an operator command whose move has ended.
func (d *Daemon) answerMove(a node.Answer) {
	reply, found := d.moves[a.ID]
	if !found {
		return
	}
	delete(d.moves, a.ID)
	if a.Err != nil {
		reply <- fail("%v", a.Err)
		return
	}
	reply <- ok(api.Move{Holding: a.Holding.String(), Took: a.Took.Round(time.Millisecond).String()})
}
