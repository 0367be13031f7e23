package bench

import (
	"context"
	"errors"
)

func runFreshness(ctx context.Context, o *Options, r *Report) error { return errors.New("todo") }
func runOverload(ctx context.Context, o *Options, r *Report) error  { return errors.New("todo") }
