package fs

import (
	"context"
	"fmt"
	"testing"
)

func BenchmarkStatListRead(b *testing.B) {
	f, _ := openFS(&testing.T{})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if _, err := f.WriteFile(ctx, fmt.Sprintf("/Projects/p/Resources/d/f%d", i), make([]byte, 4096), CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("stat", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := f.Stat(ctx, "/Projects/p/Resources/d/f7"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list100", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := f.List(ctx, "/Projects/p/Resources/d"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read4k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := f.ReadFile(ctx, "/Projects/p/Resources/d/f7"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
