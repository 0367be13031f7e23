package bench

import (
	"context"
	"errors"
)

func runIngest(ctx context.Context, o *Options, r *Report) error    { return errors.New("todo") }
func runFreshness(ctx context.Context, o *Options, r *Report) error { return errors.New("todo") }
func runQueries(ctx context.Context, o *Options, r *Report) error   { return errors.New("todo") }
func runOverload(ctx context.Context, o *Options, r *Report) error  { return errors.New("todo") }
