package wal

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateNames_Table(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
		why   string
	}{
		{"ProjectOK", ValidateProjectName, "acme-prod.v2_x", true, ""},
		{"ProjectEmpty", ValidateProjectName, "", false, "empty"},
		{"ProjectSlash", ValidateProjectName, "a/b", false, "contains"},
		{"ProjectDotFirst", ValidateProjectName, ".hidden", false, "start"},
		{"ProjectLong", ValidateProjectName, long(65), false, "longer"},
		{"ProjectMax", ValidateProjectName, long(64), true, ""},
		{"BranchOK", ValidateBranchName, "feature/login-v2", true, ""},
		{"BranchEmpty", ValidateBranchName, "", false, "empty"},
		{"BranchDotDot", ValidateBranchName, "a..b", false, ".."},
		{"BranchDoubleSlash", ValidateBranchName, "a//b", false, "//"},
		{"BranchTrailingSlash", ValidateBranchName, "a/", false, "end"},
		{"BranchDollar", ValidateBranchName, "a$b", false, "contains"},
		{"BranchNUL", ValidateBranchName, "a\x00b", false, "contains"},
		{"BranchLong", ValidateBranchName, long(256), false, "longer"},
		{"DatabaseOK", ValidateDatabaseName, "app_prod-1", true, ""},
		{"DatabaseEmpty", ValidateDatabaseName, "", false, "empty"},
		{"DatabaseDot", ValidateDatabaseName, "a.b", false, "'.'"},
		{"DatabaseDollar", ValidateDatabaseName, "a$b", false, "'$'"},
		{"DatabaseSpace", ValidateDatabaseName, "a b", false, "' '"},
		{"DatabaseSlash", ValidateDatabaseName, "a/b", false, "'/'"},
		{"DatabaseBackslash", ValidateDatabaseName, `a\b`, false, `'\\'`},
		{"DatabaseQuote", ValidateDatabaseName, `a"b`, false, `'"'`},
		{"DatabaseNUL", ValidateDatabaseName, "a\x00b", false, `'\x00'`},
		{"DatabaseMax", ValidateDatabaseName, long(63), true, ""},
		{"DatabaseLong", ValidateDatabaseName, long(64), false, "longer"},
		{"CollectionOK", ValidateCollectionName, "users.archive", true, ""},
		{"CollectionEmpty", ValidateCollectionName, "", false, "empty"},
		{"CollectionDollar", ValidateCollectionName, "a$b", false, "'$'"},
		{"CollectionNUL", ValidateCollectionName, "a\x00b", false, `'\x00'`},
		{"CollectionSystem", ValidateCollectionName, "system.users", false, "reserved"},
		{"CollectionDotFirst", ValidateCollectionName, ".a", false, "start"},
		{"CollectionBadUTF8", ValidateCollectionName, "a\xffb", false, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.check(c.in)
			if c.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidName)
			require.Contains(t, err.Error(), c.why)
		})
	}
}

func TestValidateNamespace_TooLong(t *testing.T) {
	db := strings.Repeat("d", 63)
	require.NoError(t, ValidateNamespace(db, strings.Repeat("c", 255-64)))
	err := ValidateNamespace(db, strings.Repeat("c", 255-63))
	require.ErrorIs(t, err, ErrInvalidName)
	require.Contains(t, err.Error(), "limit is 255")
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range testRecords(1, 3, contractT0) {
		f.Add(r.Encode())
	}
	f.Add([]byte{5, 0, 0, 0, 0})
	r := testRecord(4, contractT0)
	tomb := tombstoneOf(&r)
	f.Add(tomb.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// What decodes must encode and decode to the same record.
		again, err := DecodeRecord(r.Encode())
		require.NoError(t, err)
		require.Equal(t, r.LSN, again.LSN)
		require.Equal(t, r.Tombstone, again.Tombstone)
		require.Len(t, again.Ops, len(r.Ops))
	})
}
