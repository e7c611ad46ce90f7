package argon

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/mongo"
)

const (
	mongoPkgPath = "go.mongodb.org/mongo-driver/mongo"
	argonPkgPath = "github.com/argon-lab/argon"
)

// sameShape reports whether argon type a may stand for driver type m in a
// signature: identical types (aliases are), or a named type of package
// mongo and the argon type of the same name, or composites of those.
func sameShape(m, a reflect.Type) bool {
	if m == a {
		return true
	}
	if m.Name() != "" && m.PkgPath() == mongoPkgPath {
		return a.PkgPath() == argonPkgPath && a.Name() == m.Name()
	}
	if m.Kind() != a.Kind() || m.Name() != a.Name() || m.PkgPath() != a.PkgPath() {
		return false
	}
	switch m.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		return (m.Kind() != reflect.Array || m.Len() == a.Len()) && sameShape(m.Elem(), a.Elem())
	case reflect.Map:
		return sameShape(m.Key(), a.Key()) && sameShape(m.Elem(), a.Elem())
	case reflect.Func:
		if m.NumIn() != a.NumIn() || m.NumOut() != a.NumOut() || m.IsVariadic() != a.IsVariadic() {
			return false
		}
		for i := 0; i < m.NumIn(); i++ {
			if !sameShape(m.In(i), a.In(i)) {
				return false
			}
		}
		for i := 0; i < m.NumOut(); i++ {
			if !sameShape(m.Out(i), a.Out(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// TestParity_MethodSets_MatchDriver proves that an application switching
// its import from the driver to argon keeps compiling: every exported
// method of the driver's types exists on argon's twin with the same
// signature.
func TestParity_MethodSets_MatchDriver(t *testing.T) {
	pairs := []struct {
		driver, argon reflect.Type
	}{
		{reflect.TypeOf(&mongo.Client{}), reflect.TypeOf(&Client{})},
		{reflect.TypeOf(&mongo.Database{}), reflect.TypeOf(&Database{})},
		{reflect.TypeOf(&mongo.Collection{}), reflect.TypeOf(&Collection{})},
		{reflect.TypeOf(mongo.IndexView{}), reflect.TypeOf(IndexView{})},
		{reflect.TypeOf(mongo.SearchIndexView{}), reflect.TypeOf(SearchIndexView{})},
		{reflect.TypeOf(&mongo.ChangeStream{}), reflect.TypeOf(&ChangeStream{})},
		{reflect.TypeOf(&mongo.Cursor{}), reflect.TypeOf(&Cursor{})},
		{reflect.TypeOf(&mongo.SingleResult{}), reflect.TypeOf(&SingleResult{})},
		{reflect.TypeOf((*mongo.Session)(nil)).Elem(), reflect.TypeOf((*Session)(nil)).Elem()},
		{reflect.TypeOf((*mongo.SessionContext)(nil)).Elem(), reflect.TypeOf((*SessionContext)(nil)).Elem()},
	}
	for _, p := range pairs {
		t.Run(p.driver.String(), func(t *testing.T) {
			if p.driver.NumMethod() == 0 {
				t.Fatalf("%s has no methods: the test is not looking at the right type", p.driver)
			}
			for i := 0; i < p.driver.NumMethod(); i++ {
				dm := p.driver.Method(i)
				if !dm.IsExported() {
					// mongo.Session's unexported method seals it: no
					// other package can have it.
					continue
				}
				am, ok := p.argon.MethodByName(dm.Name)
				if !ok {
					t.Errorf("%s lacks method %s%s", p.argon, dm.Name, dm.Type)
					continue
				}
				dt, at := dm.Type, am.Type
				if p.driver.Kind() != reflect.Interface {
					// Method types of concrete types include the
					// receiver; compare without it.
					dt, at = methodFunc(dt), methodFunc(at)
				}
				if !sameShape(dt, at) {
					t.Errorf("%s.%s: argon %s, driver %s", p.argon, dm.Name, am.Type, dm.Type)
				}
			}
		})
	}
}

// TestParity_SessionFuncs_MatchDriver checks the package-level session
// functions against the driver's.
func TestParity_SessionFuncs_MatchDriver(t *testing.T) {
	pairs := []struct {
		name   string
		driver interface{}
		argon  interface{}
	}{
		{"NewSessionContext", mongo.NewSessionContext, NewSessionContext},
		{"SessionFromContext", mongo.SessionFromContext, SessionFromContext},
		{"WithSession", mongo.WithSession, WithSession},
	}
	for _, p := range pairs {
		if !sameShape(reflect.TypeOf(p.driver), reflect.TypeOf(p.argon)) {
			t.Errorf("%s: argon %T, driver %T", p.name, p.argon, p.driver)
		}
	}
}

// methodFunc drops the receiver from a method's func type.
func methodFunc(f reflect.Type) reflect.Type {
	in := make([]reflect.Type, 0, f.NumIn()-1)
	for i := 1; i < f.NumIn(); i++ {
		in = append(in, f.In(i))
	}
	out := make([]reflect.Type, 0, f.NumOut())
	for i := 0; i < f.NumOut(); i++ {
		out = append(out, f.Out(i))
	}
	return reflect.FuncOf(in, out, f.IsVariadic())
}

// TestParity_Aliases_AreDriverTypes checks that the result, model and error
// types are the driver's own (aliases), so values flow between code written
// for either package.
func TestParity_Aliases_AreDriverTypes(t *testing.T) {
	pairs := []struct{ a, m interface{} }{
		{InsertOneResult{}, mongo.InsertOneResult{}},
		{InsertManyResult{}, mongo.InsertManyResult{}},
		{UpdateResult{}, mongo.UpdateResult{}},
		{DeleteResult{}, mongo.DeleteResult{}},
		{BulkWriteResult{}, mongo.BulkWriteResult{}},
		{IndexModel{}, mongo.IndexModel{}},
		{IndexSpecification{}, mongo.IndexSpecification{}},
		{CollectionSpecification{}, mongo.CollectionSpecification{}},
		{WriteException{}, mongo.WriteException{}},
		{BulkWriteException{}, mongo.BulkWriteException{}},
		{CommandError{}, mongo.CommandError{}},
		{InsertOneModel{}, mongo.InsertOneModel{}},
		{Pipeline{}, mongo.Pipeline{}},
	}
	for _, p := range pairs {
		if reflect.TypeOf(p.a) != reflect.TypeOf(p.m) {
			t.Errorf("%T is not %T", p.a, p.m)
		}
	}
	if ErrNoDocuments != mongo.ErrNoDocuments || ErrNilDocument != mongo.ErrNilDocument {
		t.Error("sentinel errors must be the driver's values")
	}
}

func TestParity_SameShape_RejectsMismatches(t *testing.T) {
	yes := []struct{ m, a interface{} }{
		{func(*mongo.Collection) {}, func(*Collection) {}},
		{func() (*mongo.Cursor, error) { return nil, nil }, func() (*Cursor, error) { return nil, nil }},
		{func(...int) {}, func(...int) {}},
	}
	no := []struct{ m, a interface{} }{
		{func(*mongo.Collection) {}, func(*Database) {}},
		{func(*mongo.Collection) {}, func(Collection) {}},
		{func(int) {}, func(int64) {}},
		{func(...int) {}, func([]int) {}},
		{func() error { return nil }, func() {}},
	}
	for _, c := range yes {
		if !sameShape(reflect.TypeOf(c.m), reflect.TypeOf(c.a)) {
			t.Errorf("%T should match %T", c.m, c.a)
		}
	}
	for _, c := range no {
		if sameShape(reflect.TypeOf(c.m), reflect.TypeOf(c.a)) {
			t.Errorf("%T should not match %T", c.m, c.a)
		}
	}
}
