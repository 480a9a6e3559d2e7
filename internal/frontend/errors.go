package frontend

import (
	"errors"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"

	"github.com/smithbuild/smith/config"
)

// withSource attaches the smith.yaml range of a config.Error to err, so
// BuildKit clients print the line with a snippet. Errors that already carry a
// source, and errors without a position, pass through.
func withSource(err error, sm *llb.SourceMap) error {
	if err == nil || sm == nil || len(errdefs.Sources(err)) > 0 {
		return err
	}
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Pos.Line == 0 {
		return err
	}
	info := &pb.SourceInfo{Filename: sm.Filename, Language: sm.Language, Data: sm.Data}
	if sm.Definition != nil {
		info.Definition = sm.Definition.ToPB()
	}
	return errdefs.WithSource(err, &errdefs.Source{Info: info, Ranges: []*pb.Range{pointAt(ce.Pos)}})
}

// pointAt is the smith.yaml range of one position.
func pointAt(p config.Pos) *pb.Range {
	pos := &pb.Position{Line: int32(p.Line), Character: int32(p.Col)}
	return &pb.Range{Start: pos, End: pos}
}
