package catalog

import (
	"encoding/json"
	"fmt"
)

// CmdType names a catalog command. The numbering is part of the log format:
// never reuse or renumber a type; add new ones at the end.
type CmdType uint16

const (
	cmdInvalid CmdType = iota
	CmdPutUser
	CmdDropUser
	CmdCreateProject
	CmdDropProject
	CmdMkdirs
	CmdCreateFile
	CmdRename
	CmdDelete
	CmdSetXattr
	CmdRemoveXattr
	CmdSetQuota
	_ // reserved (was SetTimes, never proposed): numbers are part of the log format
	CmdCommit
	CmdExpireSnapshots
	CmdSpill
	CmdPutStatistics
	CmdPutExperiment
	CmdDropExperiment
)

// cmdVersions is the newest payload version this binary applies for each
// command type. A log entry with a newer version (written by a newer binary)
// or an unknown type stops the node: applying it wrongly, or skipping it,
// would let this replica diverge from the others.
var cmdVersions = map[CmdType]uint16{
	CmdPutUser:         1,
	CmdDropUser:        1,
	CmdCreateProject:   1,
	CmdDropProject:     1,
	CmdMkdirs:          1,
	CmdCreateFile:      1,
	CmdRename:          1,
	CmdDelete:          1,
	CmdSetXattr:        1,
	CmdRemoveXattr:     1,
	CmdSetQuota:        1,
	CmdCommit:          1,
	CmdExpireSnapshots: 1,
	CmdSpill:           1,
	CmdPutStatistics:   1,
	CmdPutExperiment:   1,
	CmdDropExperiment:  1,
}

func (t CmdType) String() string {
	switch t {
	case CmdPutUser:
		return "PutUser"
	case CmdDropUser:
		return "DropUser"
	case CmdCreateProject:
		return "CreateProject"
	case CmdDropProject:
		return "DropProject"
	case CmdMkdirs:
		return "Mkdirs"
	case CmdCreateFile:
		return "CreateFile"
	case CmdRename:
		return "Rename"
	case CmdDelete:
		return "Delete"
	case CmdSetXattr:
		return "SetXattr"
	case CmdRemoveXattr:
		return "RemoveXattr"
	case CmdSetQuota:
		return "SetQuota"
	case CmdCommit:
		return "Commit"
	case CmdExpireSnapshots:
		return "ExpireSnapshots"
	case CmdSpill:
		return "Spill"
	case CmdPutStatistics:
		return "PutStatistics"
	case CmdPutExperiment:
		return "PutExperiment"
	case CmdDropExperiment:
		return "DropExperiment"
	}
	return fmt.Sprintf("CmdType(%d)", uint16(t))
}

// envelope is one Raft log entry. Everything that must be identical on every
// replica — ids, OIDs, the commit time — is chosen by the leader and written
// here before the entry is logged, so applying it needs no clock and no
// randomness.
type envelope struct {
	Type    CmdType         `json:"t"`
	Version uint16          `json:"v"`
	Request string          `json:"r"`             // request id: a retried proposal is applied once
	Time    int64           `json:"ts"`            // leader's commit time, Unix nanoseconds
	IDs     []uint64        `json:"ids,omitempty"` // fresh ids allocated by the leader for this command
	Payload json.RawMessage `json:"p"`
}

// Payloads. Field names are part of the log format.

// PutUser creates or replaces a user.
type PutUser struct {
	Name      string `json:"name"`
	Superuser bool   `json:"superuser"`
	SCRAM     string `json:"scram,omitempty"`
	// IfAbsent makes the command a no-op when the user exists (first-start
	// bootstrap on more than one node must not overwrite a password).
	IfAbsent bool `json:"if_absent,omitempty"`
}

// DropUser removes a user.
type DropUser struct {
	Name string `json:"name"`
}

// CreateProject creates a project (a database) and its directory tree
// /Projects/<name>/{Resources,Experiments,Models,TrainingDatasets,Logs,Warehouse}.
type CreateProject struct {
	Name     string `json:"name"`
	Owner    string `json:"owner"`
	IfAbsent bool   `json:"if_absent,omitempty"`
}

// DropProject removes a project and everything under its directory.
type DropProject struct {
	Name string `json:"name"`
}

// Mkdirs creates a directory and any missing parents.
type Mkdirs struct {
	Path  string `json:"path"`
	Owner string `json:"owner"`
	Mode  uint32 `json:"mode"`
}

// CreateFile makes a file visible: either its content inline (≤ InlineMax
// bytes) or a reference to a block already written and fsynced on disk.
type CreateFile struct {
	Path      string `json:"path"`
	Owner     string `json:"owner"`
	Mode      uint32 `json:"mode"`
	Overwrite bool   `json:"overwrite"`
	Inline    []byte `json:"inline,omitempty"`
	Block     *Block `json:"block,omitempty"`
}

// Rename moves a file or a whole directory tree atomically.
type Rename struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// Delete removes a file, an empty directory, or (Recursive) a tree.
type Delete struct {
	Path      string `json:"path"`
	Recursive bool   `json:"recursive"`
}

// Xattr flags, after setxattr(2).
const (
	XattrCreateOrReplace = 0
	XattrCreate          = 1 // fail if it exists
	XattrReplace         = 2 // fail if it does not exist
)

// SetXattr sets an extended attribute.
type SetXattr struct {
	Path  string `json:"path"`
	Name  string `json:"name"`
	Value []byte `json:"value"`
	Flag  int    `json:"flag"`
}

// RemoveXattr removes an extended attribute.
type RemoveXattr struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// SetQuota sets a project's quotas; 0 means unlimited.
type SetQuota struct {
	Project string `json:"project"`
	Bytes   int64  `json:"bytes"`
	Inodes  int64  `json:"inodes"`
}

// idsNeeded is how many fresh ids the leader allocates for a command: an
// upper bound on the inodes or objects it may create.
func idsNeeded(t CmdType, payload any) int {
	switch t {
	case CmdPutUser:
		return 1
	case CmdCreateProject:
		return 2 + len(ProjectDirs) // /Projects, the project dir, its children
	case CmdMkdirs:
		if p, ok := payload.(Mkdirs); ok {
			return len(splitLoose(p.Path))
		}
	case CmdCreateFile:
		if p, ok := payload.(CreateFile); ok {
			return len(splitLoose(p.Path)) // missing parents are created
		}
	case CmdCommit:
		if p, ok := payload.(Commit); ok {
			return commitIDs(p)
		}
	case CmdPutExperiment:
		if p, ok := payload.(PutExperiment); ok && p.Experiment != nil && p.Experiment.ID == 0 {
			return 1
		}
	}
	return 0
}
