// Package dn holds the one reading of Appgate's distinguishedNameFilter,
// shared by the client's dry run and the controller emulator, so a preview
// selects exactly the devices a revocation hits.
package dn

import (
	"strings"
	"time"
)

// ActiveWindow is how recently a device must have signed in to be hit by a
// revocation with an empty distinguishedNameFilter and no specific names.
const ActiveWindow = 24 * time.Hour

// Matches applies a distinguishedNameFilter to a device DN. The spec
// calls the filter "starts with" and gives three examples: a full DN hits one
// device, and "OU=ldap" hits every device of the ldap provider. A DN is read
// from its root, the right-hand end (OU=provider, then CN=user, then
// CN=device), so the filter hits a DN whose trailing components are exactly
// the filter's: "OU=ldap" a provider, "CN=alice,OU=ldap" a user, a full DN a
// device. A plain textual prefix ("CN=4c07bc67") also matches, for the
// literal reading of "starts with".
func Matches(dn, filter string) bool {
	if strings.HasPrefix(dn, filter) {
		return true
	}
	dnParts, filterParts := splitDN(dn), splitDN(filter)
	if len(filterParts) == 0 || len(filterParts) > len(dnParts) {
		return false
	}
	tail := dnParts[len(dnParts)-len(filterParts):]
	for i, f := range filterParts {
		if !sameRDN(tail[i], f) {
			return false
		}
	}
	return true
}

// splitDN splits a DN into its components at unescaped commas.
func splitDN(dn string) []string {
	var parts []string
	start, escaped := 0, false
	for i, c := range dn {
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == ',':
			parts = append(parts, strings.TrimSpace(dn[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(dn[start:]); rest != "" || len(parts) > 0 {
		parts = append(parts, rest)
	}
	return parts
}

// sameRDN compares two "TYPE=value" components: the attribute type ignores
// case, as in LDAP; the value must match exactly.
func sameRDN(a, b string) bool {
	at, av, aok := strings.Cut(a, "=")
	bt, bv, bok := strings.Cut(b, "=")
	return aok && bok && strings.EqualFold(strings.TrimSpace(at), strings.TrimSpace(bt)) && av == bv
}
