// Package paths says where devcluster keeps things on disk, per cluster:
// data that must survive (registry storage) under the XDG data directory,
// runtime state (agent PID, log, locks) under the XDG state directory. It
// only computes paths; their users create them (0700).
package paths

import (
	"errors"
	"path/filepath"
	"runtime"
)

// Env looks up environment variables.
type Env func(string) (string, bool)

// Home is the user's home directory: $HOME, else on Windows (where HOME is
// seldom set) %USERPROFILE%; "" when neither is set.
func Home(env Env) string {
	if h, _ := env("HOME"); h != "" {
		return h
	}
	if runtime.GOOS == "windows" {
		h, _ := env("USERPROFILE")
		return h
	}
	return ""
}

// Dirs are one cluster's directories.
type Dirs struct {
	// Data is $XDG_DATA_HOME/devcluster/<name> (~/.local/share/devcluster/<name>).
	Data string
	// State is $XDG_STATE_HOME/devcluster/<name> (~/.local/state/devcluster/<name>).
	State string
	// Mirrors is the per-user store of the pull-through mirrors, shared by
	// every cluster: $XDG_CACHE_HOME/devcluster/mirrors (~/.cache/...).
	Mirrors string
}

// RegistryData is the default registry storage directory.
func (d Dirs) RegistryData() string { return filepath.Join(d.Data, "registry") }

// VersionCache is the file remembering the version of each provider
// executable ($XDG_STATE_HOME/devcluster/tool-versions.json).
func VersionCache(env Env) (string, error) {
	d, err := For(env, "")
	if err != nil {
		return "", err
	}
	return filepath.Join(d.State, "tool-versions.json"), nil
}

// ToolsDir is where devcluster installs the cluster tools it downloads
// ($XDG_CACHE_HOME/devcluster/bin, ~/.cache/devcluster/bin): a cache, which
// the next download fills again if it is deleted.
func ToolsDir(env Env) (string, error) {
	cache, err := cacheDir(env)
	if err != nil {
		return "", errors.New("neither HOME nor XDG_CACHE_HOME is set: cannot place devcluster's tools")
	}
	return filepath.Join(cache, "bin"), nil
}

// cacheDir is $XDG_CACHE_HOME/devcluster (~/.cache/devcluster).
func cacheDir(env Env) (string, error) {
	cache, _ := env("XDG_CACHE_HOME")
	if cache == "" {
		home := Home(env)
		if home == "" {
			return "", errors.New("neither HOME nor XDG_CACHE_HOME is set")
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "devcluster"), nil
}

// For returns the directories of cluster name ("" for devcluster's own
// top-level directories).
func For(env Env, name string) (Dirs, error) {
	get := func(k string) string { v, _ := env(k); return v }
	home := Home(env)
	data, state := get("XDG_DATA_HOME"), get("XDG_STATE_HOME")
	if data == "" || state == "" {
		if home == "" {
			return Dirs{}, errors.New("neither HOME nor XDG_DATA_HOME/XDG_STATE_HOME is set: cannot place devcluster's data")
		}
		if data == "" {
			data = filepath.Join(home, ".local", "share")
		}
		if state == "" {
			state = filepath.Join(home, ".local", "state")
		}
	}
	d := Dirs{Data: filepath.Join(data, "devcluster", name), State: filepath.Join(state, "devcluster", name)}
	if cache, err := cacheDir(env); err == nil {
		d.Mirrors = filepath.Join(cache, "mirrors")
	}
	return d, nil
}
