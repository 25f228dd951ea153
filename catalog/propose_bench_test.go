package catalog

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

func BenchmarkPropose(b *testing.B) {
	n := openNode(&testing.T{}, b.TempDir(), Config{})
	defer n.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := n.Propose(ctx, CmdMkdirs, Mkdirs{Path: fmt.Sprintf("/bench/%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProposeParallel(b *testing.B) {
	n := openNode(&testing.T{}, b.TempDir(), Config{})
	defer n.Close()
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := n.Propose(ctx, CmdMkdirs, Mkdirs{Path: fmt.Sprintf("/bench/%d", seq.Add(1))}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
