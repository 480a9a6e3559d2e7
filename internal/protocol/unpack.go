package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Unpack is one step over an image archive of the build context: the
// unpack step's request. With Inspect the step writes an Image to
// ImageFile in Out; otherwise it applies layer Layer onto Out.
type Unpack struct {
	// Version is the protocol version; EncodeUnpack sets it.
	Version int `json:"version"`
	// Archive is the archive file, a path inside Context when that is set.
	Archive string `json:"archive"`
	// Context is the folder (the build context) Archive is opened in: links
	// are never followed out of it. Empty opens Archive as it is.
	Context string `json:"context,omitempty"`
	// Name names the archive in messages; empty is Archive's base name.
	Name string `json:"name,omitempty"`
	// Tag picks the image: a ref.name annotation or RepoTags entry, whole
	// or its tag part. Empty is the only image, else "latest".
	Tag string `json:"tag,omitempty"`
	// Platform, os/arch[/variant], picks the image in an index. Empty is
	// the helper's own platform.
	Platform string `json:"platform,omitempty"`
	// TempDir is where a compressed archive is decompressed; empty is
	// $TMPDIR, else /tmp.
	TempDir string `json:"tmp,omitempty"`
	// MaxBytes bounds what the archive, and each layer, may decompress to;
	// 0 is the helper's default.
	MaxBytes int64 `json:"maxBytes,omitempty"`
	// Out is the output folder.
	Out string `json:"out"`
	// Inspect writes the Image instead of applying a layer.
	Inspect bool `json:"inspect,omitempty"`
	// Layer is the layer to apply (0-based) onto Out, which holds the
	// layers below it.
	Layer int `json:"layer,omitempty"`
}

// Check reports a request the helper cannot run.
func (u Unpack) Check() error {
	switch {
	case u.Archive == "":
		return errors.New("unpack: the request names no archive")
	case u.Out == "":
		return errors.New("unpack: the request names no output folder")
	case u.Layer < 0:
		return fmt.Errorf("unpack: layer %d: want a layer number from 0", u.Layer)
	case u.Inspect && u.Layer != 0:
		return errors.New("unpack: an inspection applies no layer")
	case u.MaxBytes < 0:
		return fmt.Errorf("unpack: max bytes %d: want a positive number", u.MaxBytes)
	}
	return nil
}

// EncodeUnpack writes u as the unpack step reads it.
func EncodeUnpack(u Unpack) ([]byte, error) {
	u.Version = Version
	return encode(u)
}

// DecodeUnpack reads an unpack request of this protocol version.
func DecodeUnpack(b []byte) (Unpack, error) {
	return decodeChecked(b, Unpack.Check)
}

// ImageFile is where, in Unpack's Out, an inspection writes its Image.
const ImageFile = "image.json"

// Image is what an image archive holds, as an Unpack with Inspect reports
// it: the unpack step's response, from which the frontend plans one step
// per layer.
type Image struct {
	// Version is the protocol version; EncodeImage sets it.
	Version int `json:"version"`
	// Config is the image config the archive stores, as JSON (compacted by
	// the encoder, otherwise as stored): the frontend decodes it.
	Config json.RawMessage `json:"config"`
	// Layers is the number of layers.
	Layers int `json:"layers"`
}

// EncodeImage writes img as the frontend reads it.
func EncodeImage(img Image) ([]byte, error) {
	img.Version = Version
	b, err := encode(img)
	return append(b, '\n'), err
}

// DecodeImage reads an inspection of this protocol version.
func DecodeImage(b []byte) (Image, error) {
	return decodeChecked(b, Image.check)
}

func (img Image) check() error {
	if img.Layers < 0 || len(img.Config) == 0 {
		return fmt.Errorf("no image config, or %d layers", img.Layers)
	}
	return nil
}
