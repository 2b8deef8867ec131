package msg

import "testing"

func BenchmarkDecodeNetstring(b *testing.B) {
	p, kr := vectorBytes(b), md5Ring(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(p, kr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeClassic(b *testing.B) {
	kr := md5Ring(b)
	p := EncodeClassic(statusMessage(), kr)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(p, kr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeNetstring(b *testing.B) {
	m, kr := statusMessage(), md5Ring(b)
	b.ReportAllocs()
	for b.Loop() {
		EncodeNetstring(m, kr, true)
	}
}
