package argon

import (
	"context"

	"go.mongodb.org/mongo-driver/mongo"
)

// Session and SessionContext are the driver's types. Argon does not
// support sessions or transactions yet: Client.StartSession and
// Client.UseSession return errors wrapping ErrNotSupported. A context that
// carries a session of a real driver client is accepted by Argon's
// operations and its session ignored.
//
// Sessions are the driver's and document their own concurrency rules.
type (
	// Session is the driver's session interface.
	Session = mongo.Session
	// SessionContext is a context carrying a Session.
	SessionContext = mongo.SessionContext
)

// NewSessionContext returns a SessionContext carrying sess, exactly as
// mongo.NewSessionContext.
func NewSessionContext(ctx context.Context, sess Session) SessionContext {
	return mongo.NewSessionContext(ctx, sess)
}

// SessionFromContext returns the Session ctx carries, or nil, exactly as
// mongo.SessionFromContext.
func SessionFromContext(ctx context.Context) Session {
	return mongo.SessionFromContext(ctx)
}

// WithSession calls fn with a SessionContext for sess, exactly as
// mongo.WithSession.
func WithSession(ctx context.Context, sess Session, fn func(SessionContext) error) error {
	return mongo.WithSession(ctx, sess, fn)
}
