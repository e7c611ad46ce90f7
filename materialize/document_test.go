package materialize

import (
	"bytes"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

func TestMutableDocument_Raw_RoundTrip(t *testing.T) {
	docs := []string{
		`{}`,
		`{"a":1,"b":{"$numberLong":"2"},"c":1.5,"d":{"$numberDecimal":"1.50"},"e":"s","f":null}`,
		`{"z":[1,[2,[3]],{"y":{"x":[]}}],"a":{"$oid":"5f0000000000000000000001"},"t":{"$timestamp":{"t":1,"i":2}}}`,
		`{"r":{"$regularExpression":{"pattern":"a.*","options":"i"}},"b":{"$binary":{"base64":"AQI=","subType":"00"}},"m":{"$minKey":1},"M":{"$maxKey":1},"u":{"$undefined":true},"js":{"$code":"x"}}`,
	}
	for _, s := range docs {
		raw := updEJ(t, s)
		d, err := NewMutableDocument(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d.Raw(), raw) {
			t.Fatalf("round trip of %s changed it", s)
		}
		// Expanding everything and re-encoding must give the same bytes.
		var expandAll func(n *dnode)
		expandAll = func(n *dnode) {
			n.expand()
			for _, k := range n.kids {
				expandAll(k.n)
			}
		}
		expandAll(d.root)
		if got := d.Raw(); !bytes.Equal(got, raw) {
			t.Fatalf("re-encoding %s gave %s", s, updCanon(got))
		}
	}
}

func TestMutableDocument_Set_Cases(t *testing.T) {
	cases := []struct {
		name, doc, path, val, want string
		code                       int32
		msg                        string
	}{
		{name: "Replace", doc: `{"a":1,"b":2}`, path: "a", val: `"x"`, want: `{"a":"x","b":2}`},
		{name: "Append", doc: `{"a":1}`, path: "b", val: `2`, want: `{"a":1,"b":2}`},
		{name: "Intermediate", doc: `{"a":1}`, path: "b.c.d", val: `2`, want: `{"a":1,"b":{"c":{"d":2}}}`},
		{name: "ArrayIndex", doc: `{"a":[1,2]}`, path: "a.0", val: `9`, want: `{"a":[9,2]}`},
		{name: "ArrayPad", doc: `{"a":[1]}`, path: "a.3", val: `9`, want: `{"a":[1,null,null,9]}`},
		{name: "ArrayPadDoc", doc: `{"a":[]}`, path: "a.1.b.c", val: `9`, want: `{"a":[null,{"b":{"c":9}}]}`},
		{name: "NotViableScalar", doc: `{"a":1}`, path: "a.x", val: `1`, code: 28, msg: "Cannot create field 'x' in element {a: 1}"},
		{name: "NotViableArray", doc: `{"a":[1]}`, path: "a.x", val: `1`, code: 28, msg: "Cannot create field 'x' in element {a: [ 1 ]}"},
		{name: "EmptyComponent", doc: `{}`, path: "a..b", val: `1`, code: 56},
		{name: "Backfill", doc: `{"a":[]}`, path: "a.2000000", val: `1`, code: 34},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewMutableDocument(updEJ(t, tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			err = d.Set(tc.path, updEJ(t, `{"v":`+tc.val+`}`).Lookup("v"))
			if tc.code != 0 {
				updCheckErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := updEJ(t, tc.want); !bytes.Equal(d.Raw(), want) {
				t.Fatalf("got %s want %s", updCanon(d.Raw()), updCanon(want))
			}
			v, ok := d.Lookup(tc.path)
			if !ok || !bytes.Equal(v.Value, updEJ(t, `{"v":`+tc.val+`}`).Lookup("v").Value) {
				t.Fatalf("Lookup after Set = %v %v", v, ok)
			}
		})
	}
}

func TestMutableDocument_Unset_Cases(t *testing.T) {
	cases := []struct {
		name, doc, path, want string
		changed               bool
	}{
		{"Field", `{"a":1,"b":2}`, "a", `{"b":2}`, true},
		{"Nested", `{"a":{"b":1,"c":2}}`, "a.c", `{"a":{"b":1}}`, true},
		{"ArrayElementNull", `{"a":[1,2]}`, "a.0", `{"a":[null,2]}`, true},
		{"ArrayElementAlreadyNull", `{"a":[null,2]}`, "a.0", `{"a":[null,2]}`, false},
		{"Missing", `{"a":1}`, "b", `{"a":1}`, false},
		{"NonViable", `{"a":1}`, "a.b", `{"a":1}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewMutableDocument(updEJ(t, tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			changed, err := d.Unset(tc.path)
			if err != nil || changed != tc.changed {
				t.Fatalf("Unset = %v, %v", changed, err)
			}
			if want := updEJ(t, tc.want); !bytes.Equal(d.Raw(), want) {
				t.Fatalf("got %s want %s", updCanon(d.Raw()), updCanon(want))
			}
		})
	}
}

func TestMutableDocument_Lookup_Cases(t *testing.T) {
	d, err := NewMutableDocument(updEJ(t, `{"a":{"b":[10,{"c":"x"}]},"n":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"a.b.0": `10`, "a.b.1.c": `"x"`, "n": `null`, "a.b.01": `{"c":"x"}`} {
		v, ok := d.Lookup(path)
		w := updEJ(t, `{"v":`+want+`}`).Lookup("v")
		if !ok || v.Type != w.Type || !bytes.Equal(v.Value, w.Value) {
			t.Errorf("Lookup(%q) = %v %v", path, v, ok)
		}
	}
	for _, path := range []string{"x", "a.c", "a.b.2", "a.b.c", "a.b.1.c.d", "a.b.-1", ""} {
		if _, ok := d.Lookup(path); ok {
			t.Errorf("Lookup(%q) found something", path)
		}
	}
}

func TestNewMutableDocument_Invalid(t *testing.T) {
	bad := [][]byte{
		nil,
		{5, 0, 0, 0},
		{4, 0, 0, 0, 0},
		{0, 0, 0, 0, 0},
		{6, 0, 0, 0, 0, 0},
		{5, 0, 0, 0, 1},
		{0xff, 0xff, 0xff, 0xff, 0},
		{12, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0}, // int32 cut short
		{13, 0, 0, 0, 0x02, 'a', 0, 0xff, 0, 0, 0, 0, 0}, // string length too long
		{13, 0, 0, 0, 0x03, 'a', 0, 0, 0, 0, 0, 0, 0},    // embedded length 0
		{12, 0, 0, 0, 0x08, 'a', 0, 2, 0, 0, 0, 0},       // bool 2
		{11, 0, 0, 0, 0x42, 'a', 0, 0, 0, 0, 0},          // unknown type
		{8, 0, 0, 0, 0x0A, 'a', 'b', 0},                  // name not terminated
		{13, 0, 0, 0, 0x03, 'a', 0, 5, 0, 0, 0, 1, 0, 0}, // bad embedded terminator
	}
	for i, b := range bad {
		if _, err := NewMutableDocument(b); err == nil {
			t.Errorf("case %d: accepted %v", i, b)
		}
	}
}

func TestDnFormat_Values(t *testing.T) {
	cases := []struct{ doc, want string }{
		{`{"a":1}`, `a: 1`},
		{`{"a":1.0}`, `a: 1.0`},
		{`{"a":1.5}`, `a: 1.5`},
		{`{"a":0.1}`, `a: 0.1`},
		{`{"a":1e20}`, `a: 1e+20.0`},
		{`{"a":{"$numberDouble":"Infinity"}}`, `a: inf.0`},
		{`{"a":{"$numberDouble":"NaN"}}`, `a: nan.0`},
		{`{"a":{"$numberLong":"5"}}`, `a: 5`},
		{`{"a":{"$numberDecimal":"1.50"}}`, `a: 1.50`},
		{`{"a":"s"}`, `a: "s"`},
		{`{"a":null}`, `a: null`},
		{`{"a":true}`, `a: true`},
		{`{"a":{}}`, `a: {}`},
		{`{"a":[]}`, `a: []`},
		{`{"a":{"b":1,"c":[1,{"d":2}]}}`, `a: { b: 1, c: [ 1, { d: 2 } ] }`},
		{`{"a":{"$oid":"5f0000000000000000000001"}}`, `a: ObjectId('5f0000000000000000000001')`},
		{`{"a":{"$date":{"$numberLong":"1500"}}}`, `a: new Date(1500)`},
		{`{"a":{"$timestamp":{"t":5,"i":2}}}`, `a: Timestamp(5, 2)`},
		{`{"a":{"$regularExpression":{"pattern":"x.y","options":"i"}}}`, `a: /x.y/i`},
		{`{"a":{"$binary":{"base64":"AQI=","subType":"00"}}}`, `a: BinData(0, 0102)`},
		{`{"a":{"$binary":{"base64":"AAECAwQFBgcICQoLDA0ODw==","subType":"04"}}}`, `a: UUID("00010203-0405-0607-0809-0a0b0c0d0e0f")`},
		{`{"a":{"$minKey":1}}`, `a: MinKey`},
		{`{"a":{"$maxKey":1}}`, `a: MaxKey`},
		{`{"a":{"$undefined":true}}`, `a: undefined`},
	}
	for _, c := range cases {
		v := updEJ(t, c.doc).Lookup("a")
		if got := dnFormatRawElem("a", v); got != c.want {
			t.Errorf("%s: got %q want %q", c.doc, got, c.want)
		}
	}
	if got := dnFormatDouble(math.Copysign(0, -1)); got != "-0.0" {
		t.Errorf("-0: %q", got)
	}
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'x'
	}
	v := bson.RawValue{Type: bsontype.String, Value: append(append([]byte{201, 0, 0, 0}, long...), 0)}
	if got := dnFormatValue(v); got != `"`+string(long[:150])+`..."` {
		t.Errorf("long string: %q", got)
	}
	if dnTypeName(bsontype.Int32) != "int" || dnTypeName(bsontype.Decimal128) != "decimal" || dnTypeName(bsontype.CodeWithScope) != "javascriptWithScope" {
		t.Error("type names")
	}
}

func TestUpdFieldLess_Order(t *testing.T) {
	ordered := []string{"", "0", "1", "2", "9", "10", "11", "100", "01", "1a", "A", "a", "a0", "b"}
	for i := range ordered {
		for j := range ordered {
			if got := updFieldLess(ordered[i], ordered[j]); got != (i < j) && !(ordered[i] == "01" || ordered[j] == "01" || ordered[i] == "1a" || ordered[j] == "1a") {
				t.Errorf("less(%q, %q) = %v", ordered[i], ordered[j], got)
			}
		}
	}
	if !updFieldLess("9", "10") || updFieldLess("10", "9") || !updFieldLess("10", "a") || !updFieldLess("02", "10") {
		t.Error("numeric order")
	}
}

func TestDnArrayIndex_Parse(t *testing.T) {
	good := map[string]int{"0": 0, "7": 7, "007": 7, "4294967295": 4294967295, "000000000000001": 1, "00000000000": 0}
	for s, want := range good {
		if got, ok := dnArrayIndex(s); !ok || got != want {
			t.Errorf("dnArrayIndex(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1a", "a", "4294967296", "99999999999", " 1", "1.0"} {
		if _, ok := dnArrayIndex(s); ok {
			t.Errorf("dnArrayIndex(%q) accepted", s)
		}
	}
}

func TestMutableDocument_Raw_RareTypes(t *testing.T) {
	// Code with scope, old binary, DBPointer and symbol survive a round trip
	// through an expanded tree.
	raw := updEJ(t, `{"c":{"$code":"f()","$scope":{"x":1}},"b":{"$binary":{"base64":"AQID","subType":"02"}},"p":{"$dbPointer":{"$ref":"db.c","$id":{"$oid":"5f0000000000000000000001"}}},"s":{"$symbol":"sym"},"d":{"$date":{"$numberLong":"-5"}}}`)
	d, err := NewMutableDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set("z", bson.RawValue{Type: bsontype.Int32, Value: []byte{1, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Unset("z"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Raw(), raw) {
		t.Fatalf("got %s", updCanon(d.Raw()))
	}
	for _, name := range []string{"c", "b", "p", "s", "d"} {
		v, _ := d.Lookup(name)
		if dnFormatValue(v) == "" {
			t.Errorf("%s formats to nothing", name)
		}
	}
	if err := d.Set("bad", bson.RawValue{Type: bsontype.String, Value: []byte{9, 0, 0, 0, 'x'}}); err == nil {
		t.Error("invalid value accepted")
	}
	if err := d.Set("eoo", bson.RawValue{}); err == nil {
		t.Error("EOO accepted")
	}
}
