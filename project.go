package argon

import (
	"context"
	"errors"
	"fmt"

	"github.com/argon-lab/argon/wal"
)

// Project errors. Check them with errors.Is.
var (
	// ErrProjectNotFound means the project does not exist or was deleted.
	ErrProjectNotFound = errors.New("argon: project not found")
	// ErrProjectExists means a project with the name already has a log.
	ErrProjectExists = errors.New("argon: project already exists")
)

func isProjectRecord(rec *wal.Record) bool {
	for _, op := range rec.Ops {
		if op.Kind == wal.OpCreateProject || op.Kind == wal.OpDeleteProject {
			return true
		}
	}
	return false
}

func (e *engine) applyProject(rec *wal.Record) {
	for _, op := range rec.Ops {
		switch op.Kind {
		case wal.OpCreateProject:
			if rec.LSN != 1 {
				e.applyErr = fmt.Errorf("lsn %d: a project is created by its first record", rec.LSN)
			}
		case wal.OpDeleteProject:
			e.deleted = true
		}
	}
}

// ProjectName returns the project the client works in.
func (c *Client) ProjectName() string { return c.eng.project }

// CreateProject creates a project: its log starts with a creation record
// and its main branch exists at once. It fails with ErrProjectExists if the
// project already has a log. The project is durable when CreateProject
// returns.
func (c *Client) CreateProject(ctx context.Context, name string) error {
	if err := c.live(); err != nil {
		return err
	}
	if err := wal.ValidateProjectName(name); err != nil {
		return err
	}
	_, err := c.log.AppendFunc(ctx, name, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
		if lsn != 1 {
			return "", nil, fmt.Errorf("%w: %q", ErrProjectExists, name)
		}
		return "", []wal.Op{{Kind: wal.OpCreateProject}}, nil
	})
	return err
}

// ListProjects returns the projects of the store that are not deleted, in
// name order. A project appears once it has a record: created with
// CreateProject, or written to through a client.
func (c *Client) ListProjects(ctx context.Context) ([]string, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	all, err := c.store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		deleted, err := c.projectDeleted(ctx, p)
		if err != nil {
			return nil, err
		}
		if !deleted {
			out = append(out, p)
		}
	}
	return out, nil
}

// projectDeleted reports whether the project's log ends with its deletion:
// a deleted project accepts no more records, so the marker is always last.
func (c *Client) projectDeleted(ctx context.Context, name string) (bool, error) {
	tail, _, err := c.store.Tail(ctx, name)
	if err != nil || tail == 0 {
		return false, err
	}
	recs, err := c.store.Read(ctx, name, tail, 1)
	if err != nil {
		return false, err
	}
	return len(recs) == 1 && isProjectRecord(&recs[0]) && recs[0].Ops[0].Kind == wal.OpDeleteProject, nil
}

// DeleteProject deletes a project. Deletion is soft: the log stays, but
// every operation on the project fails with ErrProjectNotFound, in every
// process. Once the deletion is older than the retention window,
// GarbageCollectAll removes the project's data records.
func (c *Client) DeleteProject(ctx context.Context, name string) error {
	if err := c.live(); err != nil {
		return err
	}
	if err := wal.ValidateProjectName(name); err != nil {
		return err
	}
	deleted, err := c.projectDeleted(ctx, name)
	if err != nil {
		return err
	}
	if deleted {
		return fmt.Errorf("%w: %q", ErrProjectNotFound, name)
	}
	_, err = c.log.AppendFunc(ctx, name, func(lsn wal.LSN, pending []wal.Record) (string, []wal.Op, error) {
		if lsn == 1 {
			return "", nil, fmt.Errorf("%w: %q", ErrProjectNotFound, name)
		}
		return "", []wal.Op{{Kind: wal.OpDeleteProject}}, nil
	})
	return err
}

// WithProject returns a client on the main branch of another project of the
// same store, sharing this client's log (disconnecting either disconnects
// both). The project need not exist yet: its first write creates it.
func (c *Client) WithProject(ctx context.Context, name string) (*Client, error) {
	if err := c.live(); err != nil {
		return nil, err
	}
	if err := wal.ValidateProjectName(name); err != nil {
		return nil, err
	}
	c.conn.mu.Lock()
	eng := c.conn.engines[name]
	if eng == nil {
		var err error
		if eng, err = newEngine(ctx, c.log, c.store, name, c.conn.ckpt); err != nil {
			c.conn.mu.Unlock()
			return nil, err
		}
		c.conn.engines[name] = eng
	}
	c.conn.mu.Unlock()
	h := *c
	h.eng = eng
	h.branch = view{branch: mainBranchName}
	if _, err := eng.sync(ctx); err != nil {
		return nil, err
	}
	return &h, nil
}
