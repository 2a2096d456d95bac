module github.com/rawpoll/epoll/bench

go 1.26.0

require github.com/rawpoll/epoll v0.0.0

require golang.org/x/sys v0.49.0

replace github.com/rawpoll/epoll => ../
