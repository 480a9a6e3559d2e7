package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// SPDX renders the manifest as an SPDX 2.3 JSON document describing the
// image's packages, with package URLs for vulnerability scanners. It is
// deterministic: the same manifest, tool and time give the same bytes.
func SPDX(m *Manifest, tool string, created time.Time) ([]byte, error) {
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		SPDXID           string `json:"SPDXID"`
		Name             string `json:"name"`
		VersionInfo      string `json:"versionInfo,omitempty"`
		DownloadLocation string `json:"downloadLocation"`
		FilesAnalyzed    bool   `json:"filesAnalyzed"`
		LicenseConcluded string `json:"licenseConcluded"`
		LicenseDeclared  string `json:"licenseDeclared"`
		CopyrightText    string `json:"copyrightText"`
		ExternalRefs     []ref  `json:"externalRefs,omitempty"`
	}
	type rel struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	}
	doc := struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages      []pkg `json:"packages"`
		Relationships []rel `json:"relationships"`
	}{SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: "smith microcontainer"}
	doc.CreationInfo.Created = created.UTC().Format(time.RFC3339)
	doc.CreationInfo.Creators = []string{"Tool: " + tool}
	doc.Packages, doc.Relationships = []pkg{}, []rel{}
	for _, p := range m.Packages {
		id := "SPDXRef-Package-" + p.Type + "-" + spdxIDPart(p.ID)
		doc.Packages = append(doc.Packages, pkg{
			SPDXID: id, Name: p.Name, VersionInfo: p.Version, DownloadLocation: "NOASSERTION",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION",
			ExternalRefs: []ref{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: PURL(p, m.Distro)}},
		})
		doc.Relationships = append(doc.Relationships, rel{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: id})
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(tool+"\x00"+doc.CreationInfo.Created+"\x00"), body...))
	doc.DocumentNamespace = "https://smithbuild.github.io/spdx/" + hex.EncodeToString(sum[:])
	return json.MarshalIndent(doc, "", "  ")
}

var spdxIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func spdxIDPart(s string) string { return spdxIDChars.ReplaceAllString(s, "-") }

// PURL is the package URL of p (pkg:rpm/… or pkg:deb/…); the namespace is
// the distribution's ID when known.
func PURL(p Package, d *Distro) string {
	ns := ""
	if d != nil && d.ID != "" {
		ns = url.PathEscape(d.ID) + "/"
	}
	q := url.Values{}
	if p.Arch != "" {
		q.Set("arch", p.Arch)
	}
	if p.Type == "rpm" && p.Epoch != "" && p.Epoch != "0" {
		q.Set("epoch", p.Epoch)
	}
	if d != nil && d.ID != "" && d.VersionID != "" {
		q.Set("distro", d.ID+"-"+d.VersionID)
	}
	s := fmt.Sprintf("pkg:%s/%s%s@%s", p.Type, ns, purlEscape(p.Name), purlEscape(p.Version))
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// purlEscape percent-encodes a purl name or version; "+" too, which is
// common in Debian versions and ambiguous in URLs.
func purlEscape(s string) string { return strings.ReplaceAll(url.PathEscape(s), "+", "%2B") }
