// Tailwind CSS 4 runs as a PostCSS plugin; no tailwind.config is needed (sources are detected).
const config = {
  plugins: {
    "@tailwindcss/postcss": {},
  },
};

export default config;
