-- flashpro in Neovim 0.11+: the configuration tests/test_real_neovim.py runs in a real Neovim.
-- Put it in your init.lua; set DEEPSEEK_API_KEY in the environment (or flashpro.apiKey below).
vim.lsp.config('flashpro', {
  cmd = { 'flashpro', 'lsp' },
  root_markers = { '.git' },
  init_options = { completion = { automatic = true } }, -- any flashpro.* setting
})
vim.lsp.enable('flashpro')

-- Neovim 0.12+: ghost text from textDocument/inlineCompletion
if vim.lsp.inline_completion then
  vim.lsp.inline_completion.enable()
end
