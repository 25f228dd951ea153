package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// User is a role that may log in.
type User struct {
	Name      string `json:"name"`
	Superuser bool   `json:"superuser"`
	// SCRAM is the SCRAM-SHA-256 verifier in PostgreSQL's pg_authid format:
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, base64 parts.
	// Empty when the user has no password.
	SCRAM string `json:"scram,omitempty"`
}

// Users is the durable set of users.
type Users struct {
	path string
	mu   sync.RWMutex
	m    map[string]User
}

// OpenUsers loads the user file at path, or starts empty if it is missing.
func OpenUsers(path string) (*Users, error) {
	u := &Users{path: path, m: map[string]User{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var list []User
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("parse users %s: %w", path, err)
	}
	for _, x := range list {
		u.m[x.Name] = x
	}
	return u, nil
}

// Get returns the user with the given name.
func (u *Users) Get(name string) (User, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.m[name]
	return x, ok
}

// List returns all users sorted by name.
func (u *Users) List() []User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]User, 0, len(u.m))
	for _, x := range u.m {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Put creates or replaces a user and makes the change durable before returning.
func (u *Users) Put(x User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	old, had := u.m[x.Name]
	u.m[x.Name] = x
	if err := u.save(); err != nil {
		if had {
			u.m[x.Name] = old
		} else {
			delete(u.m, x.Name)
		}
		return err
	}
	return nil
}

func (u *Users) save() error {
	list := make([]User, 0, len(u.m))
	for _, x := range u.m {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("encode users: %w", err)
	}
	return WriteFileAtomic(u.path, b, 0o600)
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
