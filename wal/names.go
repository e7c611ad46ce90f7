package wal

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Name limits. Database and namespace limits are MongoDB's.
const (
	MaxProjectNameLen  = 64
	MaxBranchNameLen   = 255
	MaxDatabaseNameLen = 63
	MaxNamespaceLen    = 255 // len(db) + 1 + len(collection)
)

func invalidName(kind, name, why string) error {
	return fmt.Errorf("%w: %s name %q %s", ErrInvalidName, kind, name, why)
}

// ValidateProjectName checks a project name: 1 to 64 bytes of ASCII letters,
// digits, '.', '_' and '-', starting with a letter or digit. Projects become
// directory names in the embedded store, hence the narrow alphabet.
func ValidateProjectName(name string) error {
	if name == "" {
		return invalidName("project", name, "is empty")
	}
	if len(name) > MaxProjectNameLen {
		return invalidName("project", name, fmt.Sprintf("is longer than %d bytes", MaxProjectNameLen))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return invalidName("project", name, "must start with a letter or digit")
		}
		if !alnum && c != '.' && c != '_' && c != '-' {
			return invalidName("project", name, fmt.Sprintf("contains %q; use letters, digits, '.', '_' and '-'", c))
		}
	}
	return nil
}

// ValidateBranchName checks a branch name (or id): 1 to 255 bytes of ASCII
// letters, digits, '.', '_', '-' and '/', not starting with '-', '.' or '/',
// not ending with '/', without "//" or "..".
func ValidateBranchName(name string) error {
	if name == "" {
		return invalidName("branch", name, "is empty")
	}
	if len(name) > MaxBranchNameLen {
		return invalidName("branch", name, fmt.Sprintf("is longer than %d bytes", MaxBranchNameLen))
	}
	switch name[0] {
	case '-', '.', '/':
		return invalidName("branch", name, fmt.Sprintf("must not start with %q", name[0]))
	}
	if strings.HasSuffix(name, "/") {
		return invalidName("branch", name, "must not end with '/'")
	}
	if strings.Contains(name, "//") || strings.Contains(name, "..") {
		return invalidName("branch", name, `must not contain "//" or ".."`)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '/'
		if !ok {
			return invalidName("branch", name, fmt.Sprintf("contains %q; use letters, digits, '.', '_', '-' and '/'", c))
		}
	}
	return nil
}

// ValidateDatabaseName applies MongoDB's rules: not empty, at most 63 bytes,
// none of / \ . space " $ or NUL.
func ValidateDatabaseName(name string) error {
	if name == "" {
		return invalidName("database", name, "is empty")
	}
	if len(name) > MaxDatabaseNameLen {
		return invalidName("database", name, fmt.Sprintf("is longer than %d bytes", MaxDatabaseNameLen))
	}
	if !utf8.ValidString(name) {
		return invalidName("database", name, "is not valid UTF-8")
	}
	if i := strings.IndexAny(name, "/\\. \"$\x00"); i >= 0 {
		return invalidName("database", name, fmt.Sprintf("must not contain %q", name[i]))
	}
	return nil
}

// ValidateCollectionName applies MongoDB's rules: not empty, no '$' or NUL,
// not starting with '.' or "system." (reserved for the server).
func ValidateCollectionName(name string) error {
	if name == "" {
		return invalidName("collection", name, "is empty")
	}
	if !utf8.ValidString(name) {
		return invalidName("collection", name, "is not valid UTF-8")
	}
	if i := strings.IndexAny(name, "$\x00"); i >= 0 {
		return invalidName("collection", name, fmt.Sprintf("must not contain %q", name[i]))
	}
	if name[0] == '.' {
		return invalidName("collection", name, "must not start with '.'")
	}
	if strings.HasPrefix(name, "system.") {
		return invalidName("collection", name, `must not start with "system." (reserved)`)
	}
	return nil
}

// ValidateNamespace checks both names and their combined length
// ("db.collection" at most 255 bytes).
func ValidateNamespace(db, coll string) error {
	if err := ValidateDatabaseName(db); err != nil {
		return err
	}
	if err := ValidateCollectionName(coll); err != nil {
		return err
	}
	if n := len(db) + 1 + len(coll); n > MaxNamespaceLen {
		return fmt.Errorf("%w: namespace %q is %d bytes, the limit is %d", ErrInvalidName, db+"."+coll, n, MaxNamespaceLen)
	}
	return nil
}
