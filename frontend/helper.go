package frontend

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// HelperContext names the build context that supplies the helper binary when
// the frontend does not run from an image (in-process client.Build in tests,
// or a gateway that cannot report its own image). It must hold the static
// smith-frontend binary at its root, e.g.
//
//	buildctl … --local helper=./bin --opt context:smith-helper=local:helper
const HelperContext = "smith-helper"

// currentFrontend is implemented by the gateway's grpc client: it returns
// the digest-pinned LLB of the image this frontend runs from.
type currentFrontend interface {
	CurrentFrontend() (*llb.State, error)
}

// helperImage returns a filesystem holding the smith helper at
// llbgen.HelperPath: the frontend image itself, so the helper's version
// always matches, or the smith-helper named context as a fallback.
func helperImage(ctx context.Context, c client.Client, bc *dockerui.Client) (*llb.State, error) {
	if st, _, err := namedContext(ctx, bc, HelperContext, bc.BuildPlatforms[0]); err != nil || st != nil {
		return st, err
	}
	if cf, ok := c.(currentFrontend); ok {
		st, err := cf.CurrentFrontend()
		if err != nil {
			return nil, fmt.Errorf("locating the frontend image to run the smith helper from: %w", err)
		}
		if st != nil {
			return st, nil
		}
	}
	return nil, errors.New("cannot find the smith helper: the frontend is not running from an image; " +
		"pass the directory holding the smith-frontend binary as the build context " + HelperContext)
}
