package capture

import "encoding/binary"

// decodeEntry fills rec from a lane entry written by the tap (tap.go lists
// the layouts) of a recorder keeping payload. rec's Text and Body point into the entry: valid until the
// entry is released.
func decodeEntry(e []byte, rec *Record, payload Payload) {
	*rec = Record{
		Kind: Kind(e[4]),
		Time: int64(binary.LittleEndian.Uint64(e[8:])),
		Conn: binary.LittleEndian.Uint64(e[16:]),
	}
	flag, p := e[5], e[laneHeader:]
	switch rec.Kind {
	case KindPub:
		tl := binary.LittleEndian.Uint32(p)
		rec.Size = binary.LittleEndian.Uint32(p[4:])
		rec.Text = p[8 : 8+tl]
		if payload == PayloadFull {
			rec.Body = p[8+tl : 8+tl+rec.Size]
		}
	case KindSub, KindUnsub, KindHello:
		tl := binary.LittleEndian.Uint32(p)
		rec.Text = p[4 : 4+tl]
	case KindOpen:
		v := binary.LittleEndian.Uint64(p)
		rec.PID, rec.UID = int32(uint32(v)), uint32(v>>32)
	case KindClose:
		rec.Drops = binary.LittleEndian.Uint64(p)
		rec.ProtocolError = flag == 1
	case KindOut:
		rec.State = OutState(flag)
		rec.EventsOut = binary.LittleEndian.Uint64(p)
		rec.BytesOut = binary.LittleEndian.Uint64(p[8:])
		rec.Drops = binary.LittleEndian.Uint64(p[16:])
	case KindGap:
		rec.Count = binary.LittleEndian.Uint64(p)
	}
}
