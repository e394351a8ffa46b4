package turnero

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestMessageCatalogue(t *testing.T) {
	for key, m := range messages {
		if strings.TrimSpace(m.es) == "" || strings.TrimSpace(m.en) == "" {
			t.Errorf("message %q: es %q, en %q: both are required", key, m.es, m.en)
		}
		if m.es == m.en {
			t.Errorf("message %q: the Spanish text is the English one", key)
		}
		if strings.Contains(key, "_") && (strings.Contains(m.es, key) || strings.Contains(m.en, key)) {
			t.Errorf("message %q shows its key to people", key)
		}
	}
}

func TestMessageFallback(t *testing.T) {
	if got := Message("consent_required", Spanish); got != "Debe aceptar el tratamiento de sus datos para registrarse." {
		t.Errorf("Spanish: %q", got)
	}
	if got := Message("consent_required", English); got != "You must accept the processing of your data to register." {
		t.Errorf("English: %q", got)
	}
	if got := Message("consent_required", Lang(42)); got != Message("consent_required", Spanish) {
		t.Errorf("an unknown language must read Spanish, got %q", got)
	}
	// An unknown key never shows itself: the generic message instead.
	for _, l := range []Lang{Spanish, English} {
		if got := Message("no_such_key", l); got != Message("internal", l) || got == "" {
			t.Errorf("unknown key in %v: %q", l, got)
		}
	}
	if HasMessage("no_such_key") || !HasMessage("invalid_request") {
		t.Error("HasMessage")
	}
}

var keyShape = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestEveryKeyInCodeHasAMessage reads the module's Go source and collects the
// string literals used as message keys: error keys (Errorf, Error{Key:}),
// field problems (FieldErrors.Add, and the keys the parsers return) and the
// keys the HTTP layer writes. Each must be in the catalogue, or a person
// would read the generic "internal" message instead of what went wrong.
func TestEveryKeyInCodeHasAMessage(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	keys := map[string][]string{} // key → where it is used
	add := func(fset *token.FileSet, e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil || s == "" || !keyShape.MatchString(s) {
			return
		}
		keys[s] = append(keys[s], fset.Position(lit.Pos()).String())
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil // someone's file in progress; the build catches it
		}
		pkg := f.Name.Name
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				switch {
				case name == "Errorf" && len(n.Args) == 2: // turnero.Errorf(code, key)
					add(fset, n.Args[1])
				case name == "Add" && len(n.Args) == 2: // FieldErrors.Add(field, key)
					add(fset, n.Args[1])
				case name == "Message" && len(n.Args) == 2:
					add(fset, n.Args[0])
				case name == "writeJSONError" && len(n.Args) >= 4:
					add(fset, n.Args[3])
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Key" {
					add(fset, n.Value)
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && (id.Name == "key" || id.Name == "problem") && i < len(n.Rhs) {
						add(fset, n.Rhs[i])
					}
				}
			case *ast.FuncDecl:
				// Parsers of the domain return (value, problem key); the
				// HTTP decoder returns (status, key, fields).
				if n.Body == nil || n.Type.Results == nil {
					return true
				}
				pos := keyResult(pkg, n.Type.Results)
				if pos < 0 {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if _, ok := m.(*ast.FuncLit); ok {
						return false
					}
					if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) > pos {
						add(fset, r.Results[pos])
					}
					return true
				})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan must have found the keys it is meant to find.
	for _, k := range []string{"invalid_request", "document_check_digit", "phone_format", "no_group",
		"identity_conflict", "overloaded", "malformed_json", "unsupported_media", "route_not_found", "group_age"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("the scan did not find key %q: it is broken", k)
		}
	}
	var missing []string
	for k, where := range keys {
		if !HasMessage(k) {
			missing = append(missing, k+" (used at "+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("message key without Spanish and English text: %s", m)
	}
	t.Logf("%d message keys used in code", len(keys))
}

// keyResult returns the index of the result that carries a message key in
// functions of that shape, or -1.
func keyResult(pkg string, results *ast.FieldList) int {
	var types []string
	for _, f := range results.List {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			types = append(types, typeString(f.Type))
		}
	}
	switch {
	case pkg == "turnero" && len(types) == 2 && types[0] == "string" && types[1] == "string":
		return 1
	case pkg == "http" && len(types) == 3 && types[0] == "int" && types[1] == "string" && types[2] == "map[string]string":
		return 1
	}
	return -1
}

func typeString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.MapType:
		return "map[" + typeString(e.Key) + "]" + typeString(e.Value)
	}
	return "?"
}
