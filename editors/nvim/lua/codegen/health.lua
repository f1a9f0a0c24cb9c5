--- :checkhealth codegen — Neovim version, Python, the server executable, whether the
--- model loaded, and whether next-edit suggestions are on.

local config = require("codegen.config")

local M = {}

local health = vim.health

--- The interpreter that runs the server: the `python` option, or the shebang of
--- the server script.
---@param opts codegen.Config
---@param server string?  absolute path of the server executable
---@return string?
local function server_python(opts, server)
  if opts.python then
    return vim.fn.exepath(opts.python) ~= "" and vim.fn.exepath(opts.python) or nil
  end
  if not server then
    return nil
  end
  local ok, lines = pcall(vim.fn.readfile, server, "", 1)
  local shebang = ok and lines[1] and lines[1]:match("^#!%s*(%S+)")
  return shebang and vim.fn.executable(shebang) == 1 and shebang or nil
end

local function check_python(python)
  if not python then
    health.warn("could not tell which Python runs the server", {
      "Set `python` in require('codegen').setup() to the interpreter that has codegen installed",
    })
    return
  end
  local version = vim.fn.system({ python, "--version" }):gsub("%s+$", "")
  health.ok(("Python: %s (%s)"):format(python, version))
  local probe = "import codegen.server, importlib.util as u; print(bool(u.find_spec('torch')))"
  local out = vim.fn.system({ python, "-c", probe })
  if vim.v.shell_error ~= 0 then
    health.error("codegen is not installed for " .. python, { "pip install -e /path/to/codegen" })
  elseif vim.trim(out) ~= "True" then
    health.warn("torch is not installed: only fake models will load", { "pip install torch" })
  else
    health.ok("codegen and torch import")
  end
end

--- Whether next-edit suggestions are on, with their keys, and whether `client`'s server offers them.
---@param opts codegen.NextEditConfig
---@param client vim.lsp.Client?
local function check_next_edit(opts, client)
  if not opts.enabled then
    health.info("next-edit suggestions: off (next_edit.enabled = false)")
    return
  end
  local function key(lhs) return lhs or "no key" end
  health.ok(("next-edit suggestions: on (normal mode: %s jumps to the edit, then applies it; %s dismisses it)")
    :format(key(opts.accept), key(opts.dismiss)))
  if not client then
    return
  end
  local experimental = client.server_capabilities and client.server_capabilities.experimental
  local codegen = type(experimental) == "table" and experimental.codegen or nil
  if type(codegen) == "table" and type(codegen.nextEdit) == "table" then
    health.ok("the server offers next edits (" .. tostring(codegen.nextEdit.method) .. ")")
  else
    health.warn("the server does not offer next edits (no capabilities.experimental.codegen.nextEdit)",
      { "Update codegen (pip install -U codegen)" })
  end
end

local function check_model()
  local lsp = require("codegen.lsp")
  if not lsp.client() then
    health.info("server not running: open a file of a configured filetype, then run :checkhealth codegen again to see whether the model loaded")
    return
  end
  local status, err = lsp.execute_sync("codegen.status", {}, 5000)
  if err or type(status) ~= "table" then
    health.error("the server did not answer codegen.status: " .. tostring(err))
  elseif status.state == "ready" then
    health.ok(("model loaded: %s on %s%s"):format(status.model, status.device,
      status.adapter ~= nil and status.adapter ~= vim.NIL and (" + adapter " .. status.adapter) or ""))
  elseif status.state == "failed" then
    health.error("the model did not load: " .. tostring(status.error), { "Check `model` in setup(), or :CodegenLog" })
  else
    health.info("model state: " .. tostring(status.state) .. " (loading can take a minute)")
  end
end

function M.check()
  local opts = require("codegen").options
  health.start("codegen")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(("Neovim %s: %s"):format(tostring(vim.version()),
      config.use_native(opts) and "native inline completion" or "extmark ghost text"))
  else
    health.error("Neovim 0.10 or newer is required")
  end
  local cmd = config.cmd(opts)
  local server = vim.fn.exepath(cmd[1])
  if server == "" then
    health.error(("server not found: %s"):format(cmd[1]), {
      "pip install codegen (it provides codegen-lsp), or set `server_path` or `python` in setup()",
    })
  else
    health.ok(("server: %s"):format(table.concat(vim.list_extend({ server }, vim.list_slice(cmd, 2)), " ")))
  end
  check_python(server_python(opts, server ~= "" and server or nil))
  check_model()
  check_next_edit(opts.next_edit, require("codegen.lsp").client())
end

return M
