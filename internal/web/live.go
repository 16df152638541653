package web

// routeLive registers the live pages. (Being written.)
func (s *server) routeLive() {}
