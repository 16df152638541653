package web

// routeGovernance registers the governance pages. (Being written.)
func (s *server) routeGovernance() {}
