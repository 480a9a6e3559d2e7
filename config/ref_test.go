package config

import (
	"errors"
	"strings"
	"testing"
)

func TestImageRef(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ImageRef
		err     string
		context string
	}{
		{in: "debian:bookworm", want: ImageRef{Kind: RefImage, Context: "debian:bookworm", Ref: "debian:bookworm"}},
		{in: "base", want: ImageRef{Kind: RefImage, Context: "base", Ref: "base"}},
		{in: "docker-image://x", want: ImageRef{Kind: RefImage, Ref: "docker-image://x"}},
		{in: "https://registry-1.docker.io/library/nginx:1.25", want: ImageRef{Kind: RefURL, Context: "docker.io/library/nginx:1.25", Ref: "docker.io/library/nginx:1.25"}},
		{in: "https://u:secret@127.0.0.1:5000/test/debian:bookworm", want: ImageRef{Kind: RefURL, Context: "127.0.0.1:5000/test/debian:bookworm", Ref: "127.0.0.1:5000/test/debian:bookworm"}},
		{in: "http://host/repo", want: ImageRef{Kind: RefURL, Context: "host/repo", Ref: "host/repo"}},
		{in: "image.tar", want: ImageRef{Kind: RefArchive, Context: "image.tar", Archive: Archive{File: "image.tar"}}},
		{in: "images/app.tar.gz:v2", want: ImageRef{Kind: RefArchive, Context: "images/app.tar.gz:v2", Archive: Archive{File: "images/app.tar.gz", Tag: "v2"}}},
		{in: "app.tgz:latest", want: ImageRef{Kind: RefArchive, Context: "app.tgz:latest", Archive: Archive{File: "app.tgz", Tag: "latest"}}},
		{in: "a.tar.bz2", want: ImageRef{Kind: RefImage, Context: "a.tar.bz2", Ref: "a.tar.bz2"}},
		{in: "https://host/", err: "has no repository"},
		{in: "https://u:secret@/repo", err: "has no host"},
		{in: "https://u:secret@host:x/repo", err: "parsing image URL"},
		{in: "x:a.tar:b:c:d", err: `"x:a.tar:b:c:d" names an archive (a.tar) but is not FILE.tar[:TAG]`},
		{in: "", err: "no image given"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseImageRef(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks credentials: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestImageRefs: package (type oci), parent and installer parse once, and
// errors point at the value.
func TestImageRefs(t *testing.T) {
	f, err := Parse("smith.yaml", []byte("package: app.tar:v1\nparent: https://u:p@reg.example/base:1\npaths: [/x]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Source.Kind != RefArchive || f.Source.Archive != (Archive{File: "app.tar", Tag: "v1"}) || f.Source.Field != "package" {
		t.Errorf("source = %+v", f.Source)
	}
	if f.ParentRef.Kind != RefURL || f.ParentRef.Ref != "reg.example/base:1" || f.ParentRef.Value.Pos != (Pos{2, 9}) {
		t.Errorf("parent = %+v", f.ParentRef)
	}
	if f.InstallerRef.Kind != "" {
		t.Errorf("an image source has no installer: %+v", f.InstallerRef)
	}
	if got := f.ParentRef.Error(errors.New("not found")).Error(); got != "smith.yaml:2:9: parent: not found" {
		t.Errorf("Error() = %q", got)
	}
	f, err = Parse("smith.yaml", []byte("package: httpd\ninstaller: reg.example/el:9\n"))
	if err != nil || f.Source.Kind != "" || f.InstallerRef.Ref != "reg.example/el:9" {
		t.Errorf("mock: %+v, %v", f, err)
	}
}
