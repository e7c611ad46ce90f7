package argon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const (
	csEnvLogDB = "ARGON_CS_LOGDB"
	csWrites   = 20
)

// csWriterEvents is what csWriter's writes look like in a change stream:
// operationType and documentKey._id, in commit order.
func csWriterEvents() []string {
	var out []string
	for i := 0; i < csWrites; i++ {
		out = append(out, fmt.Sprintf("insert %d", i))
		if i%3 == 0 {
			out = append(out, fmt.Sprintf("update %d", i))
		}
		if i%5 == 0 {
			out = append(out, fmt.Sprintf("delete %d", i))
		}
	}
	return out
}

// TestChangeStream_MultiProcess_MongoStore: a stream opened in this process
// sees, in order and exactly once, the writes another OS process makes to a
// log in MongoDB; half-way the stream's client is disconnected, and a new
// client resumes from the last token without loss or duplicates.
func TestChangeStream_MultiProcess_MongoStore(t *testing.T) {
	if db := os.Getenv(csEnvLogDB); db != "" {
		csWriter(t, db)
		return
	}
	uri := testenv.MongoURI(t)
	logDB := testenv.UniqueDBName(t, "argoncs")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	connect := func() *Client {
		c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(uri))
		require.NoError(t, err)
		return c
	}
	opts := func() *options.ChangeStreamOptions {
		return options.ChangeStream().SetMaxAwaitTime(100 * time.Millisecond)
	}
	describe := func(ev bson.Raw) string {
		return fmt.Sprintf("%s %d", ev.Lookup("operationType").StringValue(), ev.Lookup("documentKey", "_id").Int32())
	}

	a := connect()
	cs, err := a.Database("app").Collection("items").Watch(ctx, Pipeline{}, opts())
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestChangeStream_MultiProcess_MongoStore$", "-test.count=1")
	cmd.Env = append(os.Environ(), csEnvLogDB+"="+logDB, testenv.URIEnv+"="+uri)
	out := make(chan error, 1)
	var output []byte
	go func() {
		var err error
		output, err = cmd.CombinedOutput()
		out <- err
	}()

	want := csWriterEvents()
	var got []string
	half := len(want) / 2
	for len(got) < half && cs.Next(ctx) {
		got = append(got, describe(cs.Current))
	}
	require.NoError(t, cs.Err())
	token := cs.ResumeToken()
	require.NoError(t, cs.Close(ctx))
	require.NoError(t, a.Disconnect(ctx))

	b := connect()
	defer b.Disconnect(context.Background())
	cs, err = b.Database("app").Collection("items").Watch(ctx, Pipeline{}, opts().SetResumeAfter(token))
	require.NoError(t, err)
	defer cs.Close(context.Background())
	for len(got) < len(want) && cs.Next(ctx) {
		got = append(got, describe(cs.Current))
	}
	require.NoError(t, cs.Err())
	require.NoError(t, <-out, "writer process: %s", output)
	require.Equal(t, want, got)
	if cs.TryNext(ctx) {
		t.Fatalf("event after the writer's last write: %s", cs.Current)
	}
	require.NoError(t, cs.Err())
}

// csWriter is the writing process: it makes csWriterEvents' writes, one
// commit each, with pauses so that the reader reads while it writes.
func csWriter(t *testing.T, logDB string) {
	ctx := context.Background()
	c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(testenv.MongoURI(t)))
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	items := c.Database("app").Collection("items")
	for i := 0; i < csWrites; i++ {
		_, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		require.NoError(t, err)
		if i%3 == 0 {
			_, err = items.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: i}}}})
			require.NoError(t, err)
		}
		if i%5 == 0 {
			_, err = items.DeleteOne(ctx, bson.D{{Key: "_id", Value: i}})
			require.NoError(t, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
