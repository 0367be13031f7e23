package main

import (
	"context"
	"errors"
)

func runKafka(ctx context.Context, m *Main, args []string) error { return errors.New("todo") }
