package pkgdb

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SPDX document types, the subset of SPDX 2.3 smith writes.
type (
	spdxRef struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	spdxChecksum struct {
		Algorithm string `json:"algorithm"`
		Value     string `json:"checksumValue"`
	}
	spdxPackage struct {
		SPDXID           string         `json:"SPDXID"`
		Name             string         `json:"name"`
		VersionInfo      string         `json:"versionInfo,omitempty"`
		DownloadLocation string         `json:"downloadLocation"`
		FilesAnalyzed    bool           `json:"filesAnalyzed"`
		LicenseConcluded string         `json:"licenseConcluded"`
		LicenseDeclared  string         `json:"licenseDeclared"`
		CopyrightText    string         `json:"copyrightText"`
		Purpose          string         `json:"primaryPackagePurpose,omitempty"`
		Comment          string         `json:"comment,omitempty"`
		Checksums        []spdxChecksum `json:"checksums,omitempty"`
		ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
	}
	spdxFile struct {
		SPDXID           string         `json:"SPDXID"`
		FileName         string         `json:"fileName"`
		Checksums        []spdxChecksum `json:"checksums"`
		LicenseConcluded string         `json:"licenseConcluded"`
		CopyrightText    string         `json:"copyrightText"`
		Comment          string         `json:"comment,omitempty"`
	}
	spdxRel struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	}
	spdxDoc struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages      []spdxPackage `json:"packages"`
		Files         []spdxFile    `json:"files,omitempty"`
		Relationships []spdxRel     `json:"relationships"`
	}
)

// imageID is the SPDX element of the microcontainer itself.
const imageID = "SPDXRef-Image"

// SPDX renders the manifest as an SPDX 2.3 JSON document: the image as a
// container package that contains its OS packages (with package URLs for
// vulnerability scanners, and how many of their files it ships) and every
// file (SHA-256 and SHA-1; symlinks are checksummed over their target), each
// under the package that owns it; the image's sources as relationships. It
// is deterministic: the same manifest, tool and time give the same bytes.
func SPDX(m *Manifest, tool string, created time.Time) ([]byte, error) {
	doc := spdxDoc{SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: "smith microcontainer"}
	doc.CreationInfo.Created = created.UTC().Format(time.RFC3339)
	doc.CreationInfo.Creators = []string{"Tool: " + tool}
	doc.Packages = []spdxPackage{noAssertion(spdxPackage{SPDXID: imageID, Name: "smith microcontainer", Purpose: "CONTAINER"})}
	doc.Relationships = []spdxRel{{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: imageID}}

	pkgIDs := map[string]string{}
	for _, p := range m.Packages {
		id := "SPDXRef-Package-" + p.Type + "-" + spdxIDPart(p.ID)
		pkgIDs[p.ID] = id
		sp := noAssertion(spdxPackage{SPDXID: id, Name: p.Name, VersionInfo: p.Version, Purpose: "OPERATING-SYSTEM",
			ExternalRefs: []spdxRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: PURL(p, m.Distro)}}})
		if p.URL != "" {
			sp.DownloadLocation = p.URL
		}
		if p.SHA256 != "" {
			sp.Checksums = []spdxChecksum{{Algorithm: "SHA256", Value: p.SHA256}}
		}
		if p.InstalledFiles > len(p.Files) {
			sp.Comment = fmt.Sprintf("partial: the image ships %d of the package's %d files", len(p.Files), p.InstalledFiles)
		} else if p.InstalledFiles > 0 {
			sp.Comment = fmt.Sprintf("the image ships all %d of the package's files", p.InstalledFiles)
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRel{Element: imageID, Type: "CONTAINS", Related: id})
	}
	for i, f := range m.Files {
		id := "SPDXRef-File-" + strconv.Itoa(i+1)
		sf := spdxFile{SPDXID: id, FileName: "." + f.Path, LicenseConcluded: "NOASSERTION", CopyrightText: "NOASSERTION"}
		content := f.SHA256
		if f.SHA256 == "" {
			sf.Comment = "symlink to " + f.Link + "; checksums are of the target text"
			s256 := sha256.Sum256([]byte(f.Link))
			content = hex.EncodeToString(s256[:])
		}
		sf.Checksums = []spdxChecksum{{Algorithm: "SHA1", Value: f.SHA1}, {Algorithm: "SHA256", Value: content}}
		if f.SHA256 == "" || f.SHA1 == "" {
			s1 := sha1.Sum([]byte(f.Link))
			sf.Checksums[0].Value = hex.EncodeToString(s1[:])
		}
		doc.Files = append(doc.Files, sf)
		owner := imageID
		if pid, ok := pkgIDs[f.Package]; ok {
			owner = pid
		}
		doc.Relationships = append(doc.Relationships, spdxRel{Element: owner, Type: "CONTAINS", Related: id})
	}
	for i, s := range m.Sources {
		id := "SPDXRef-Source-" + strconv.Itoa(i+1) + "-" + spdxIDPart(s.Kind)
		sp := noAssertion(spdxPackage{SPDXID: id, Name: s.Name, VersionInfo: s.Digest})
		rel := spdxRel{Element: imageID, Type: "GENERATED_FROM", Related: id}
		switch s.Kind {
		case "repository":
			sp.DownloadLocation = s.Name
		case "installer":
			sp.Purpose = "INSTALL"
			rel = spdxRel{Element: id, Type: "BUILD_TOOL_OF", Related: imageID}
		case "parent":
			sp.Purpose = "CONTAINER"
			rel = spdxRel{Element: imageID, Type: "DESCENDANT_OF", Related: id}
		default:
			sp.Purpose = "CONTAINER"
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, rel)
	}

	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(tool+"\x00"+doc.CreationInfo.Created+"\x00"), body...))
	doc.DocumentNamespace = "https://smithbuild.github.io/spdx/" + hex.EncodeToString(sum[:])
	return json.MarshalIndent(doc, "", "  ")
}

func noAssertion(p spdxPackage) spdxPackage {
	if p.DownloadLocation == "" {
		p.DownloadLocation = "NOASSERTION"
	}
	p.LicenseConcluded, p.LicenseDeclared, p.CopyrightText = "NOASSERTION", "NOASSERTION", "NOASSERTION"
	return p
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
