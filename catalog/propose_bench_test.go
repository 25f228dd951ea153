package catalog

import (
	"context"
	"fmt"
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
