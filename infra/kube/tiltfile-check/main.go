// Command tiltfile-check runs a Tiltfile in go.starlark.net, the interpreter
// Tilt embeds, with Tilt's builtins replaced by recorders, and prints what it
// declared as JSON: resources, images, manifests and the files it read. It
// catches what a cluster-less machine can: syntax and type errors, calls of
// unknown builtins, fail() paths, and (in the caller's test) dangling names.
//
//	tiltfile-check <Tiltfile> [-- system ...]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

type call struct {
	Builtin string         `json:"builtin"`
	Args    []any          `json:"args"`
	Kwargs  map[string]any `json:"kwargs"`
}

var calls []call

// plain turns a Starlark value into JSON-friendly Go values.
func plain(v starlark.Value) any {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.Bool:
		return bool(x)
	case starlark.Int:
		i, _ := x.Int64()
		return i
	case starlark.Float:
		return float64(x)
	case starlark.String:
		return string(x)
	case *starlark.List:
		out := []any{}
		for i := 0; i < x.Len(); i++ {
			out = append(out, plain(x.Index(i)))
		}
		return out
	case starlark.Tuple:
		out := []any{}
		for _, e := range x {
			out = append(out, plain(e))
		}
		return out
	case *starlark.Dict:
		out := map[string]any{}
		for _, item := range x.Items() {
			out[fmt.Sprint(plain(item[0]))] = plain(item[1])
		}
		return out
	case *record:
		return map[string]any{x.builtin: x.value}
	default:
		return v.String()
	}
}

// record is what a recorded builtin returns (link(), sync(), ...), so that
// values nested in other calls keep their kind.
type record struct {
	builtin string
	value   any
}

func (r *record) String() string        { return r.builtin + "(...)" }
func (r *record) Type() string          { return r.builtin }
func (r *record) Freeze()               {}
func (r *record) Truth() starlark.Bool  { return true }
func (r *record) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable") }

func recorder(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		c := call{Builtin: name, Args: []any{}, Kwargs: map[string]any{}}
		for _, a := range args {
			c.Args = append(c.Args, plain(a))
		}
		for _, kv := range kwargs {
			c.Kwargs[string(kv[0].(starlark.String))] = plain(kv[1])
		}
		calls = append(calls, c)
		return &record{builtin: name, value: c}, nil
	})
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tiltfile-check <Tiltfile> [-- system ...]")
		os.Exit(2)
	}
	path := os.Args[1]
	var cliArgs []string
	for i, a := range os.Args {
		if a == "--" {
			cliArgs = os.Args[i+1:]
		}
	}
	dir := filepath.Dir(path)
	read := []string{}

	defined := map[string]string{}
	config := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"define_string_list": starlark.NewBuiltin("config.define_string_list", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			name := string(args[0].(starlark.String))
			defined[name] = "string_list"
			for _, kv := range kwargs {
				if string(kv[0].(starlark.String)) == "args" && kv[1] == starlark.True {
					defined[name] = "args"
				}
			}
			return starlark.None, nil
		}),
		"define_bool": starlark.NewBuiltin("config.define_bool", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			defined[string(args[0].(starlark.String))] = "bool"
			return starlark.None, nil
		}),
		"parse": starlark.NewBuiltin("config.parse", func(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			out := starlark.NewDict(1)
			names := make([]string, 0, len(defined))
			for name := range defined {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if defined[name] == "args" && len(cliArgs) > 0 {
					list := []starlark.Value{}
					for _, a := range cliArgs {
						list = append(list, starlark.String(a))
					}
					_ = out.SetKey(starlark.String(name), starlark.NewList(list))
				}
			}
			return out, nil
		}),
	})

	predeclared := starlark.StringDict{
		"config":              config,
		"decode_json":         starjson.Module.Members["decode"],
		"TRIGGER_MODE_MANUAL": starlark.String("manual"),
		"TRIGGER_MODE_AUTO":   starlark.String("auto"),
		"read_file": starlark.NewBuiltin("read_file", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			name := string(args[0].(starlark.String))
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			read = append(read, name)
			return starlark.String(data), nil
		}),
	}
	for _, name := range []string{"allow_k8s_contexts", "update_settings", "k8s_yaml", "k8s_resource", "local_resource", "docker_build", "sync", "run", "fall_back_on", "link", "helm_repo", "helm_resource", "watch_file"} {
		predeclared[name] = recorder(name)
	}

	thread := &starlark.Thread{
		Name: "Tiltfile",
		Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			if module != "ext://helm_resource" {
				return nil, fmt.Errorf("extension %s is not known to this check", module)
			}
			return starlark.StringDict{"helm_resource": recorder("helm_resource"), "helm_repo": recorder("helm_repo")}, nil
		},
	}
	options := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	_, err := starlark.ExecFileOptions(options, thread, path, nil, predeclared)
	if err != nil {
		if e, ok := err.(*starlark.EvalError); ok {
			fmt.Fprintln(os.Stderr, e.Backtrace())
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{"calls": calls, "read": read})
	fmt.Println(string(out))
}
