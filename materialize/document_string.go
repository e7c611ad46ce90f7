package materialize

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// This file renders values the way mongod's BSONElement::toString does, since
// many server error messages embed such renderings ("Cannot create field 'b'
// in element {a: 1}", "... {_id: ObjectId('...')} has the field ..."). Tests
// written against a real server compare these strings.

// dnTypeName is the server's typeName(BSONType).
func dnTypeName(t bsontype.Type) string {
	if name := typeName(t); name != "missing" || t == 0 {
		return name
	}
	return "invalid"
}

// dnFormatElem renders "name: value" like BSONElement::toString(true).
func dnFormatElem(name string, n *dnode) string {
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteString(": ")
	v := n.value()
	dnWriteValue(&sb, v.Type, v.Value, 0)
	return sb.String()
}

// dnFormatRawElem renders "name: value" for a raw value.
func dnFormatRawElem(name string, v bson.RawValue) string {
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteString(": ")
	dnWriteValue(&sb, v.Type, v.Value, 0)
	return sb.String()
}

// dnFormatValue renders a value without a field name.
func dnFormatValue(v bson.RawValue) string {
	var sb strings.Builder
	dnWriteValue(&sb, v.Type, v.Value, 0)
	return sb.String()
}

// dnFormatDoc renders a document like BSONObj::toString: "{ a: 1, b: "x" }",
// and "{}" when empty.
func dnFormatDoc(doc []byte) string {
	var sb strings.Builder
	dnWriteDoc(&sb, doc, false, 0)
	return sb.String()
}

// dnFormatDouble is StringBuilder::appendDoubleNice: printf("%.16g") plus
// ".0" when the text has no '.', 'E' or 'N' (so "1.0", but also "1e+20.0"
// and "inf.0", exactly as the server prints them).
func dnFormatDouble(f float64) string {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan"
		if math.Signbit(f) {
			s = "-nan"
		}
	default:
		s = strconv.FormatFloat(f, 'g', 16, 64)
	}
	if !strings.ContainsAny(s, ".EN") {
		s += ".0"
	}
	return s
}

const dnMaxToStringDepth = 100

func dnWriteDoc(sb *strings.Builder, doc []byte, isArray bool, depth int) {
	if len(doc) < 5 {
		sb.WriteString("{}")
		return
	}
	body := doc[4 : len(doc)-1]
	if len(body) == 0 {
		if isArray {
			sb.WriteString("[]")
		} else {
			sb.WriteString("{}")
		}
		return
	}
	if isArray {
		sb.WriteString("[ ")
	} else {
		sb.WriteString("{ ")
	}
	first := true
	for len(body) > 0 {
		t := bsontype.Type(body[0])
		end := indexByte(body[1:], 0)
		if end < 0 {
			break
		}
		name := string(body[1 : 1+end])
		rest := body[2+end:]
		size, ok := dnValueSize(t, rest)
		if !ok {
			break
		}
		if !first {
			sb.WriteString(", ")
		}
		first = false
		if !isArray {
			sb.WriteString(name)
			sb.WriteString(": ")
		}
		dnWriteValue(sb, t, rest[:size], depth+1)
		body = rest[size:]
	}
	if isArray {
		sb.WriteString(" ]")
	} else {
		sb.WriteString(" }")
	}
}

func dnWriteValue(sb *strings.Builder, t bsontype.Type, b []byte, depth int) {
	if depth > dnMaxToStringDepth {
		sb.WriteString("...")
		return
	}
	u32 := func(off int) uint32 {
		if len(b) < off+4 {
			return 0
		}
		return binary.LittleEndian.Uint32(b[off:])
	}
	u64 := func() uint64 {
		if len(b) < 8 {
			return 0
		}
		return binary.LittleEndian.Uint64(b)
	}
	str := func() string {
		if len(b) < 5 {
			return ""
		}
		return string(b[4 : len(b)-1])
	}
	switch t {
	case bsontype.EmbeddedDocument:
		dnWriteDoc(sb, b, false, depth)
	case bsontype.Array:
		dnWriteDoc(sb, b, true, depth)
	case 0:
		sb.WriteString("EOO")
	case bsontype.DateTime:
		sb.WriteString("new Date(")
		sb.WriteString(strconv.FormatInt(int64(u64()), 10))
		sb.WriteString(")")
	case bsontype.Regex:
		p := indexByte(b, 0)
		if p < 0 {
			return
		}
		sb.WriteString("/")
		sb.Write(b[:p])
		sb.WriteString("/")
		if q := indexByte(b[p+1:], 0); q >= 0 {
			sb.Write(b[p+1 : p+1+q])
		}
	case bsontype.Double:
		sb.WriteString(dnFormatDouble(math.Float64frombits(u64())))
	case bsontype.Int64:
		sb.WriteString(strconv.FormatInt(int64(u64()), 10))
	case bsontype.Int32:
		sb.WriteString(strconv.FormatInt(int64(int32(u32(0))), 10))
	case bsontype.Decimal128:
		if len(b) >= 16 {
			d := primitive.NewDecimal128(binary.LittleEndian.Uint64(b[8:]), binary.LittleEndian.Uint64(b))
			sb.WriteString(d.String())
		}
	case bsontype.Boolean:
		if len(b) > 0 && b[0] != 0 {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case bsontype.Undefined:
		sb.WriteString("undefined")
	case bsontype.Null:
		sb.WriteString("null")
	case bsontype.MaxKey:
		sb.WriteString("MaxKey")
	case bsontype.MinKey:
		sb.WriteString("MinKey")
	case bsontype.CodeWithScope:
		if len(b) >= 8 {
			l := int(int32(u32(4)))
			if l >= 1 && 8+l <= len(b) {
				sb.WriteString("CodeWScope( ")
				sb.Write(b[8 : 8+l-1])
				sb.WriteString(", ")
				dnWriteDoc(sb, b[8+l:], false, depth)
				sb.WriteString(")")
			}
		}
	case bsontype.JavaScript:
		s := str()
		if len(s)+1 > 80 {
			sb.WriteString(s[:min(70, len(s))])
			sb.WriteString("...")
		} else {
			sb.WriteString(s)
		}
	case bsontype.Symbol, bsontype.String:
		s := str()
		sb.WriteByte('"')
		if len(s)+1 > 160 {
			sb.WriteString(s[:150])
			sb.WriteString("...\"")
		} else {
			sb.WriteString(s)
			sb.WriteByte('"')
		}
	case bsontype.DBPointer:
		l := int(int32(u32(0)))
		if l >= 1 && 4+l+12 <= len(b) {
			sb.WriteString("DBRef('")
			sb.Write(b[4 : 4+l-1])
			sb.WriteString("',")
			sb.WriteString(hex.EncodeToString(b[4+l : 4+l+12]))
			sb.WriteString(")")
		}
	case bsontype.ObjectID:
		sb.WriteString("ObjectId('")
		sb.WriteString(hex.EncodeToString(b))
		sb.WriteString("')")
	case bsontype.Binary:
		if len(b) < 5 {
			return
		}
		sub := b[4]
		data := b[5:]
		if sub == 2 && len(data) >= 4 {
			data = data[4:]
		}
		if sub == 4 && len(data) == 16 {
			h := hex.EncodeToString(data)
			sb.WriteString(`UUID("` + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + `")`)
			return
		}
		sb.WriteString("BinData(")
		sb.WriteString(strconv.Itoa(int(sub)))
		sb.WriteString(", ")
		if len(data) > 80 {
			sb.WriteString(strings.ToUpper(hex.EncodeToString(data[:70])))
			sb.WriteString("...)")
		} else {
			sb.WriteString(strings.ToUpper(hex.EncodeToString(data)))
			sb.WriteString(")")
		}
	case bsontype.Timestamp:
		v := u64()
		sb.WriteString("Timestamp(")
		sb.WriteString(strconv.FormatUint(v>>32, 10))
		sb.WriteString(", ")
		sb.WriteString(strconv.FormatUint(v&0xFFFFFFFF, 10))
		sb.WriteString(")")
	default:
		sb.WriteString("?type=")
		sb.WriteString(strconv.Itoa(int(t)))
	}
}
