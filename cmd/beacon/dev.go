package main

import (
	"context"
	"errors"
)

func runDev(ctx context.Context, m *Main, args []string) error { return errors.New("todo") }
