package subscriber

// WithOnHold returns cfg with f called whenever a request starts its
// endpoint's delay.
func WithOnHold(cfg Config, f func()) Config {
	cfg.onHold = f
	return cfg
}
