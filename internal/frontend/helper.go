package frontend

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
)

// HelperContext names the build context that supplies the helper binary when
// the frontend does not run from an image (in-process client.Build in tests,
// or a gateway that cannot report its own image). It must hold the static
// smith-frontend binary at its root, e.g.
//
//	buildctl … --local helper=./bin --opt context:smith-helper=local:helper
const HelperContext = "smith-helper"

// helperImage returns a filesystem holding the smith helper at
// llbgen.HelperPath: the frontend image itself, so the helper's version
// always matches, or the smith-helper named context as a fallback.
func (b *build) helperImage(ctx context.Context) (*llb.State, error) {
	if st, _, err := b.r.NamedContext(ctx, HelperContext, b.o.BuildPlatform); err != nil || st != nil {
		return st, err
	}
	st, err := b.r.CurrentFrontend()
	if err != nil {
		return nil, fmt.Errorf("locating the frontend image to run the smith helper from: %w", err)
	}
	if st != nil {
		return st, nil
	}
	return nil, errors.New("cannot find the smith helper: the frontend is not running from an image; " +
		"pass the directory holding the smith-frontend binary as the build context " + HelperContext)
}
