package argon

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argon-lab/argon/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const (
	csEnvLogDB = "ARGON_CS_LOGDB"
	csEnvRole  = "ARGON_CS_ROLE"  // "writer" or "reader"
	csEnvToken = "ARGON_CS_TOKEN" // the reader's resume token, hex
	csEnvWant  = "ARGON_CS_WANT"  // how many events the reader reads
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
		if i == csWrites/2 {
			out = append(out, "insert 100", "insert 101", "insert 102") // one record
		}
	}
	return out
}

func csDescribe(ev bson.Raw) string {
	return fmt.Sprintf("%s %d", ev.Lookup("operationType").StringValue(), ev.Lookup("documentKey", "_id").Int32())
}

func csStreamOptions() *options.ChangeStreamOptions {
	return options.ChangeStream().SetMaxAwaitTime(100 * time.Millisecond)
}

// TestChangeStream_MultiProcess_MongoStore: a stream opened in this process
// sees, in order and exactly once, the writes another OS process makes to a
// log in MongoDB. Half-way this process stops reading and a new process
// resumes from the last token: together they see every event once.
func TestChangeStream_MultiProcess_MongoStore(t *testing.T) {
	switch os.Getenv(csEnvRole) {
	case "writer":
		csWriter(t, os.Getenv(csEnvLogDB))
		return
	case "reader":
		csReader(t, os.Getenv(csEnvLogDB))
		return
	}
	uri := testenv.MongoURI(t)
	logDB := testenv.UniqueDBName(t, "argoncs")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child := func(role string, env ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChangeStream_MultiProcess_MongoStore$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), append(env, csEnvRole+"="+role, csEnvLogDB+"="+logDB, testenv.URIEnv+"="+uri)...)
		return cmd
	}

	a, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(uri))
	require.NoError(t, err)
	cs, err := a.Database("app").Collection("items").Watch(ctx, Pipeline{}, csStreamOptions())
	require.NoError(t, err)

	writer := child("writer")
	var writerOut bytes.Buffer
	writer.Stdout, writer.Stderr = &writerOut, &writerOut
	require.NoError(t, writer.Start())

	want := csWriterEvents()
	var got []string
	// Stop inside the three-event record: the token is then an event's,
	// not the end of a record.
	half := slices.Index(want, "insert 101") + 1
	for len(got) < half && cs.Next(ctx) {
		got = append(got, csDescribe(cs.Current))
	}
	require.NoError(t, cs.Err())
	token := cs.ResumeToken()
	require.NoError(t, cs.Close(ctx))
	require.NoError(t, a.Disconnect(ctx))

	// The restarted reader: another process, from the token.
	out, err := child("reader", csEnvToken+"="+hex.EncodeToString(token), csEnvWant+"="+strconv.Itoa(len(want)-half)).CombinedOutput()
	require.NoError(t, err, "reader: %s", out)
	require.NoError(t, writer.Wait(), "writer: %s", writerOut.String())
	for _, line := range strings.Split(string(out), "\n") {
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			got = append(got, ev)
		}
	}
	require.Equal(t, want, got)
	require.Contains(t, string(out), "no further event", "the reader saw an event after the writer's last write")
}

// csReader resumes from the token and prints the events it reads, then
// checks that no further event comes once the writer is done.
func csReader(t *testing.T, logDB string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := ConnectWithOptions(ctx, &Options{LogDatabase: logDB}, options.Client().ApplyURI(testenv.MongoURI(t)))
	require.NoError(t, err)
	defer c.Disconnect(context.Background())
	raw, err := hex.DecodeString(os.Getenv(csEnvToken))
	require.NoError(t, err)
	n, err := strconv.Atoi(os.Getenv(csEnvWant))
	require.NoError(t, err)
	cs, err := c.Database("app").Collection("items").Watch(ctx, Pipeline{}, csStreamOptions().SetResumeAfter(bson.Raw(raw)))
	require.NoError(t, err)
	defer cs.Close(context.Background())
	for i := 0; i < n && cs.Next(ctx); i++ {
		fmt.Printf("event: %s\n", csDescribe(cs.Current))
	}
	require.NoError(t, cs.Err())
	// The writer's last event is among the n: wait a little for strays.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if cs.TryNext(ctx) {
			fmt.Printf("event: %s\n", csDescribe(cs.Current))
		}
	}
	require.NoError(t, cs.Err())
	fmt.Println("no further event")
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
		if i == csWrites/2 {
			_, err = items.InsertMany(ctx, []interface{}{bson.D{{Key: "_id", Value: 100}}, bson.D{{Key: "_id", Value: 101}}, bson.D{{Key: "_id", Value: 102}}})
			require.NoError(t, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
