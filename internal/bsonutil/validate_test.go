package bsonutil

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

func TestValidate_Table(t *testing.T) {
	good, err := bson.Marshal(bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.A{1, "x"}}}}})
	require.NoError(t, err)
	cases := map[string]struct {
		in []byte
		ok bool
	}{
		"Good":               {good, true},
		"Empty":              {nil, false},
		"ZeroLength":         {[]byte{0, 0, 0, 0}, false},
		"LengthTooBig":       {[]byte{9, 0, 0, 0, 0}, false},
		"LengthTooSmall":     {[]byte{4, 0, 0, 0, 0}, false},
		"NoNUL":              {[]byte{5, 0, 0, 0, 1}, false},
		"Trailing":           {append(append([]byte{}, good...), 0), false},
		"EmbeddedZeroLength": {[]byte{13, 0, 0, 0, 3, 'a', 0, 0, 0, 0, 0, 0, 0}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := Validate(c.in)
			if c.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) { _ = Validate(b) })
}
