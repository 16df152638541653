package web

// routeLeaderboards registers the leaderboard pages. (Being written.)
func (s *server) routeLeaderboards() {}
