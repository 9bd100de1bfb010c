package threecxemu

import (
	"slices"
	"strconv"
	"time"
)

// callerNumber is the DN number, and so the OAuth client_id, of the seeded service principal
// whose API key Credentials returns.
const callerNumber = "tokenwarden"

// oauthClient is one of the PBX's OAuth clients that users sign in through; refresh tokens
// point at it by ClientId (its Id) and expand to it as Client.
type oauthClient struct {
	id, clientID, userAgent string
	scopes                  []string
	created                 time.Time
}

type person struct {
	name, number string
}

// people are the PBX users whose sessions appear in SecurityTokens.
var people = []person{
	{"Amelia Hart", "101"}, {"Bruno Kowalski", "102"}, {"Chiara Russo", "103"},
	{"Daniel Okafor", "104"}, {"Elena Petrova", "105"}, {"Farid Haddad", "106"},
	{"Greta Lindqvist", "107"}, {"Hugo Martin", "108"}, {"Ines Duarte", "109"},
	{"Jonas Weber", "110"}, {"Keiko Tanaka", "111"}, {"Liam O'Connor", "112"},
	{"Maya Cohen", "113"}, {"Nikos Papadopoulos", "114"}, {"Olivia Brown", "115"},
	{"Pavel Novak", "116"}, {"Quinn Murphy", "117"}, {"Rosa Jimenez", "118"},
	{"Sven Larsen", "119"}, {"Tara Singh", "120"}, {"Umar Farouk", "121"},
	{"Vera Horvat", "122"}, {"Wei Zhang", "123"}, {"Ximena Lopez", "124"},
	{"Yusuf Demir", "125"},
}

func seedClients(now time.Time) []oauthClient {
	created := now.Add(-400 * 24 * time.Hour).Truncate(time.Second)
	return []oauthClient{
		{"6f1c2a10-3b4d-4e5f-8a9b-0c1d2e3f4a50", "webclient", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", []string{"openid", "profile", "offline_access", "webclient"}, created},
		{"6f1c2a10-3b4d-4e5f-8a9b-0c1d2e3f4a51", "3cx_android", "3CXPhone for Android 20.0.411", []string{"openid", "offline_access", "mobile"}, created},
		{"6f1c2a10-3b4d-4e5f-8a9b-0c1d2e3f4a52", "3cx_ios", "3CXPhone for iOS 20.0.398", []string{"openid", "offline_access", "mobile"}, created},
		{"6f1c2a10-3b4d-4e5f-8a9b-0c1d2e3f4a53", "3cx_windows", "3CX Desktop App 20.0.1021 (Windows)", []string{"openid", "offline_access", "desktop"}, created},
		{"6f1c2a10-3b4d-4e5f-8a9b-0c1d2e3f4a54", callerNumber, "Tokenwarden/1.0 (+xapi)", []string{"xapi"}, created},
	}
}

// SeededMyTokens is how many refresh tokens of its own (MyTokens) the
// seeded principal has before Options.Scale adds more.
const SeededMyTokens = 5

// seedRefreshTokens builds the sessions every emulator starts with: one or two per user, a few
// already revoked or expired, and five belonging to the seeded service principal (its MyTokens).
// Everything derives from now and the index, so two emulators with the same clock agree.
func seedRefreshTokens(now time.Time) []*record {
	clients := seedClients(now)
	var recs []*record
	add := func(p person, c oauthClient, loginType string, age time.Duration, revoked string, expired bool) {
		recs = append(recs, refreshToken(now, int64(len(recs)+1), p, c, loginType, age, revoked, expired))
	}
	for i, p := range people {
		c := clients[i%4]
		login := "Password"
		switch {
		case i%6 == 5:
			login = "Sso"
		case i%11 == 10:
			login = "Provisioning"
		}
		revoked := ""
		switch i {
		case 3:
			revoked = "Logout"
		case 9:
			revoked = "SetPassword"
		case 17:
			revoked = "Manual"
		}
		add(p, c, login, time.Duration(2+i*3)*24*time.Hour+time.Duration(i)*time.Hour, revoked, i == 13)
		if i%5 == 0 {
			// A second device for every fifth user.
			add(p, clients[(i+1)%4], "Password", time.Duration(1+i)*time.Hour, "", false)
		}
	}
	self := person{"Tokenwarden automation", callerNumber}
	for i := range 4 {
		revoked := ""
		if i == 3 {
			revoked = "TooMany"
		}
		add(self, clients[4], "OAuthClient", time.Duration(6+i*20)*time.Hour, revoked, false)
	}
	// A fifth, an hour old: after the demo's rotation flow (it revokes the
	// ones older than a day) and one more revocation, the integration still
	// has a token of its own to list and pick.
	add(self, clients[4], "OAuthClient", time.Hour, "", false)
	return recs
}

// refreshToken builds the seeded token with this Id.
func refreshToken(now time.Time, id int64, p person, c oauthClient, loginType string, age time.Duration, revoked string, expired bool) *record {
	created := now.Add(-age).Truncate(time.Second)
	expires := created.Add(30 * 24 * time.Hour)
	if expired {
		expires = now.Add(-time.Duration(id) * time.Hour).Truncate(time.Second)
	}
	used := created.Add(age / 3).Truncate(time.Second)
	ip := "10.20." + strconv.FormatInt(id%7, 10) + "." + strconv.FormatInt(40+id%200, 10)
	vals := []value{
		str(c.id),
		when(created),
		str(ip),
		str(c.userAgent),
		optStr(p.name),
		when(expires),
		num(id),
		str(loginType),
		boolean(false),
		null(), null(), null(),
		boolean(c.clientID != callerNumber),
		strs(c.scopes...),
		boolean(true),
		// The PBX never shows refresh token material; the emulator has none to show.
		str("********"),
		when(used),
		str("203.0.113." + strconv.FormatInt(10+id%240, 10)),
		str(c.userAgent),
		str(p.number),
	}
	if revoked != "" {
		at := created.Add(age / 2).Truncate(time.Second)
		vals[refreshTokenType.index["Revoked"]] = when(at)
		vals[refreshTokenType.index["ReasonRevoked"]] = str(revoked)
		vals[refreshTokenType.index["RevokedByIp"]] = str("10.20.0.5")
	}
	return newRecord(refreshTokenType, vals, map[string][]byte{"Client": clientJSON(c)})
}

// seedScale appends n tokens of the signed-in principal (MyTokens) and n of
// other users (SecurityTokens only), for list and paging benchmarks at
// scale. Ids continue after the last seeded one, so the list stays ordered.
func seedScale(recs []*record, now time.Time, n int) []*record {
	clients := seedClients(now)
	self := person{"Tokenwarden automation", callerNumber}
	next := int64(len(recs) + 1)
	if len(recs) > 0 {
		next = int64(recs[len(recs)-1].id) + 1
	}
	out := slices.Grow(recs, 2*n)
	for i := range n {
		age := time.Duration(1+i%720) * time.Hour
		out = append(out, refreshToken(now, next, self, clients[4], "OAuthClient", age, "", false))
		p := people[i%len(people)]
		out = append(out, refreshToken(now, next+1, p, clients[i%4], "Password", age, "", false))
		next += 2
	}
	return out
}

// oauthClientType is the part of Pbx.OAuthClient the emulator shows when Client is expanded.
var oauthClientType = newEntityType("OAuthClient", []property{
	{"ClientId", kindString, nil}, {"CreatedAt", kindDateTime, nil}, {"CreatedBy", kindString, nil},
	{"Id", kindString, nil}, {"OverrideConsoleRestrictions", kindBool, nil}, {"Persistent", kindBool, nil},
	{"Scopes", kindStrings, nil}, {"UsedAt", kindDateTime, nil},
})

func clientJSON(c oauthClient) []byte {
	vals := []value{str(c.clientID), when(c.created), str("system"), str(c.id), boolean(false),
		boolean(true), strs(c.scopes...), null()}
	return appendObject([]byte(`"Client":`), oauthClientType, vals)
}

// servicePrincipalSeed is one API client configured under Admin Console > Integrations > API.
type servicePrincipalSeed struct {
	id                                 int32
	number, transcription              string
	callControl, system, xapi, myPhone bool
	lastUsedAgo                        time.Duration // 0: never used
}

var principalSeeds = []servicePrincipalSeed{
	{31, callerNumber, "Nothing", false, false, true, false, 0},
	{32, "crm_sync", "Nothing", true, false, true, false, 3 * time.Hour},
	{33, "helpdesk_bot", "Inherit", true, false, true, false, 26 * time.Hour},
	{34, "reporting", "Nothing", false, false, true, false, 9 * 24 * time.Hour},
	{35, "provisioning", "Nothing", false, true, true, false, 40 * time.Minute},
	{36, "legacy_fax", "Voicemail", false, false, false, true, 0},
}

func seedServicePrincipals(now time.Time) []*record {
	recs := make([]*record, 0, len(principalSeeds))
	empty := map[string][]byte{"Groups": []byte(`"Groups":[]`), "Peers": []byte(`"Peers":[]`)}
	for _, s := range principalSeeds {
		lastUsed := null()
		if s.lastUsedAgo > 0 {
			lastUsed = when(now.Add(-s.lastUsedAgo).Truncate(time.Second))
		}
		recs = append(recs, newRecord(servicePrincipalType, []value{
			num(int64(s.id)), str(s.number), str(s.transcription), boolean(s.callControl),
			boolean(s.system), lastUsed, boolean(s.myPhone), boolean(s.xapi),
		}, empty))
	}
	return recs
}
